// The progress bar's text and its redraw policy (see progress.h).
#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace graft::examples {
namespace {

// snprintf into a std::string: the line formats below are fixed-width numbers, which
// printf-style formats say most plainly.
template <class... Args>
std::string printf_string(const char* format, Args... args) {
  char buffer[256];
  const int n = std::snprintf(buffer, sizeof buffer, format, args...);
  return std::string(buffer, static_cast<size_t>(std::clamp(n, 0, int{sizeof buffer} - 1)));
}

// Batches and items per second, and the seconds left at that rate; NaN before any time has
// passed, which the formatters print as "?".
struct Rates {
  double batches_per_s, items_per_s, eta_s;
};
Rates rates(const ProgressState& s) {
  if (s.elapsed_s <= 0 || s.done <= 0) return {NAN, NAN, NAN};
  const double per_s = static_cast<double>(s.done) / s.elapsed_s;
  return {per_s, static_cast<double>(s.items) / s.elapsed_s,
          static_cast<double>(s.total - s.done) / per_s};
}

std::string format_rate(double value, const char* unit) {
  if (!std::isfinite(value)) return std::string("? ") + unit;
  return printf_string(value < 100 ? "%.1f %s" : "%.0f %s", value, unit);
}

int percent(const ProgressState& s) {
  return s.total > 0 ? static_cast<int>(100 * s.done / s.total) : 100;
}

// bar_width cells; the filled part in full blocks, then one partial block in eighths.
std::string bar_cells(const ProgressState& s, int bar_width) {
  static const char* const kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const double fraction =
      s.total > 0 ? std::clamp(static_cast<double>(s.done) / s.total, 0.0, 1.0) : 1.0;
  const auto eighths = static_cast<int64_t>(fraction * bar_width * 8);
  const int64_t full = eighths / 8;
  std::string cells;
  for (int64_t i = 0; i < full; ++i) cells += "█";
  int64_t used = full;
  if (full < bar_width && eighths % 8 != 0) {
    cells += kEighths[eighths % 8];
    ++used;
  }
  cells.append(static_cast<size_t>(bar_width - used), ' ');
  return cells;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(seconds);
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0)
    return printf_string("%lld:%02lld:%02lld", static_cast<long long>(h), static_cast<long long>(m),
                         static_cast<long long>(s));
  return printf_string("%02lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
}

std::string format_bar_line(const ProgressState& s, int bar_width) {
  const Rates r = rates(s);
  return printf_string("%s %3d%%|", s.description.c_str(), percent(s)) + bar_cells(s, bar_width) +
         printf_string("| %lld/%lld [", static_cast<long long>(s.done),
                       static_cast<long long>(s.total)) +
         format_duration(s.elapsed_s) + "<" + format_duration(r.eta_s) + ", " +
         format_rate(r.batches_per_s, "it/s") + ", " +
         format_rate(r.items_per_s, (s.unit + "/s").c_str()) +
         printf_string(", loss %.4f]", s.loss);
}

std::string format_plain_line(const ProgressState& s) {
  const Rates r = rates(s);
  return printf_string("%s: batch %lld/%lld (%d%%), ", s.description.c_str(),
                       static_cast<long long>(s.done), static_cast<long long>(s.total),
                       percent(s)) +
         format_rate(r.batches_per_s, "it/s") + ", " +
         format_rate(r.items_per_s, (s.unit + "/s").c_str()) + ", elapsed " +
         format_duration(s.elapsed_s) + ", eta " + format_duration(r.eta_s) +
         printf_string(", loss %.4f", s.loss);
}

ProgressBar::ProgressBar(std::ostream& out, bool interactive, std::string description,
                         int64_t total, Clock clock, std::string unit)
    : out_(out),
      interactive_(interactive),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)),
      start_s_(clock_()) {
  state_.description = std::move(description);
  state_.total = total;
  state_.unit = std::move(unit);
}

void ProgressBar::update(int64_t done, int64_t items, double loss) {
  const double now = clock_();
  state_.done = done;
  state_.items = items;
  state_.loss = loss;
  state_.elapsed_s = now - start_s_;
  const bool last = done >= state_.total;
  if (interactive_) {
    if (!last && drawn_ && now - last_draw_s_ < kRedrawInterval) return;
    last_draw_s_ = now;
    out_ << '\r' << format_bar_line(state_) << "\x1b[K" << std::flush;
    drawn_ = true;
    return;
  }
  // The plain form: a line each time another tenth of the batches is done.
  const int64_t tenths = state_.total > 0 ? kPlainLines * done / state_.total : kPlainLines;
  if (tenths <= plain_printed_) return;
  plain_printed_ = tenths;
  out_ << format_plain_line(state_) << '\n' << std::flush;
}

void ProgressBar::finish() {
  if (interactive_ && drawn_) out_ << '\n' << std::flush;
  drawn_ = false;
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace graft::examples
