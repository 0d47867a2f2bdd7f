// A tqdm-style progress bar for training loops, written to a stream (stderr in graft-train).
//
//   epoch 2/5  45%|█████▍      | 421/938 [00:12<00:15, 35.1 it/s, 2245 img/s, loss 0.5120]
//
// On a terminal the line is redrawn in place ("\r", then the line, then "clear to end of
// line"), at most every kRedrawInterval seconds and always for the last batch. Anywhere else
// (a log file, a pipe, CI) carriage returns would pile up into one enormous line, so the bar
// prints plain lines instead, one per tenth of the batches:
//
//   epoch 2/5: batch 421/938 (45%), 35.1 it/s, 2245 img/s, elapsed 00:12, eta 00:15, loss 0.5120
//
// The text of both forms comes from pure functions of a ProgressState (tests pin them down
// with fixed times); the bar itself only decides when to draw and reads the clock, which a
// test can replace.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace graft::examples {

// Everything one line shows.
struct ProgressState {
  std::string description;   // "epoch 2/5"
  int64_t done = 0;          // batches finished
  int64_t total = 0;         // batches in the epoch
  int64_t items = 0;         // examples finished (images, tokens), for the rate
  double elapsed_s = 0;      // since the bar started
  double loss = 0;           // the running mean loss of the finished batches
  std::string unit = "img";  // what an item is called in the rate: "img/s"
};

// Seconds as "MM:SS", or "H:MM:SS" from one hour on; "?" when not finite or negative.
std::string format_duration(double seconds);
// The terminal form: description, percentage, a bar of bar_width cells (eighths of a cell
// drawn with Unicode blocks), counts, elapsed<eta, rates, loss. Before any time has passed
// the rates and the ETA read "?".
std::string format_bar_line(const ProgressState& state, int bar_width = 20);
// The plain form, for logs.
std::string format_plain_line(const ProgressState& state);

class ProgressBar {
 public:
  // The fewest seconds between two redraws of the terminal form.
  static constexpr double kRedrawInterval = 0.1;
  // The plain form prints after each tenth of the batches.
  static constexpr int64_t kPlainLines = 10;

  using Clock = std::function<double()>;  // seconds, from any fixed origin

  // interactive: the terminal form (use stderr_is_terminal()). The clock defaults to
  // std::chrono::steady_clock; the bar's elapsed time starts at construction. `unit` names
  // the items in the rate ("img", "tok").
  ProgressBar(std::ostream& out, bool interactive, std::string description, int64_t total,
              Clock clock = {}, std::string unit = "img");

  // Records `done` batches and `items` examples finished, with their running mean loss, and
  // draws when it is time to.
  void update(int64_t done, int64_t items, double loss);
  // Ends the terminal line (a newline), so that what follows starts on its own line.
  void finish();

  const ProgressState& state() const { return state_; }

 private:
  std::ostream& out_;
  bool interactive_;
  Clock clock_;
  double start_s_;
  double last_draw_s_ = -1;    // the clock reading of the last terminal redraw
  int64_t plain_printed_ = 0;  // how many tenths the plain form has printed
  bool drawn_ = false;
  ProgressState state_;
};

// Whether the process's stderr is a terminal (isatty).
bool stderr_is_terminal();

}  // namespace graft::examples
