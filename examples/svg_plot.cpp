// SVG line charts (see svg_plot.h). Coordinates: each chart is a <g> translated to its
// slot; inside it the title and the legend share the top margin, the plot area is the
// rectangle the margins leave, y grows downwards as SVG's
// does, so a data value v maps to top + (1 - (v - lo) / (hi - lo)) * height.
#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

namespace graft::examples {
namespace {

constexpr int kMarginLeft = 64, kMarginRight = 16, kMarginTop = 36, kMarginBottom = 48;
constexpr int kPlotWidth = kChartWidth - kMarginLeft - kMarginRight;
constexpr int kPlotHeight = kChartHeight - kMarginTop - kMarginBottom;
constexpr int kLegendWidth = 80;  // per series

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Shortest text that reads back as the same value (for titles and tick labels).
std::string number(double v) {
  std::ostringstream out;
  out.precision(6);
  out << (v == 0 ? 0.0 : v);  // no "-0"
  return out.str();
}

bool finite_point(const std::pair<double, double>& p) {
  return std::isfinite(p.first) && std::isfinite(p.second);
}

// The data range of every finite point along one coordinate.
struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return lo > hi; }
};
Range data_range(const Chart& chart, bool y) {
  Range r;
  for (const Series& s : chart.series)
    for (const auto& p : s.points)
      if (finite_point(p)) {
        const double v = y ? p.second : p.first;
        r.lo = std::min(r.lo, v);
        r.hi = std::max(r.hi, v);
      }
  return r.empty() ? Range{0, 1} : r;
}

// Maps data values to pixels along one axis of the plot area.
struct Axis {
  std::vector<double> ticks;
  double pixel_lo, pixel_hi;  // where ticks.front() and ticks.back() land
  double map(double v) const {
    const double lo = ticks.front(), hi = ticks.back();
    return pixel_lo + (v - lo) / (hi - lo) * (pixel_hi - pixel_lo);
  }
};

void render_chart(std::ostream& out, const Chart& chart, int offset_x) {
  const Range xr = data_range(chart, false), yr = data_range(chart, true);
  const Axis x{nice_ticks(xr.lo, xr.hi), kMarginLeft, kMarginLeft + kPlotWidth};
  const Axis y{nice_ticks(yr.lo, yr.hi), kMarginTop + kPlotHeight, kMarginTop};
  out << "<g transform=\"translate(" << offset_x << ",0)\">\n";
  out << "<text x=\"" << kMarginLeft << "\" y=\"22\" font-size=\"15\">" << escape(chart.title)
      << "</text>\n";
  out << "<rect x=\"" << kMarginLeft << "\" y=\"" << kMarginTop << "\" width=\"" << kPlotWidth
      << "\" height=\"" << kPlotHeight << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (const double t : x.ticks) {
    const double px = x.map(t);
    out << "<line x1=\"" << px << "\" y1=\"" << kMarginTop << "\" x2=\"" << px << "\" y2=\""
        << kMarginTop + kPlotHeight << "\" stroke=\"#ddd\"/>\n"
        << "<text x=\"" << px << "\" y=\"" << kMarginTop + kPlotHeight + 16
        << "\" text-anchor=\"middle\" font-size=\"11\">" << number(t) << "</text>\n";
  }
  for (const double t : y.ticks) {
    const double py = y.map(t);
    out << "<line x1=\"" << kMarginLeft << "\" y1=\"" << py << "\" x2=\""
        << kMarginLeft + kPlotWidth << "\" y2=\"" << py << "\" stroke=\"#ddd\"/>\n"
        << "<text x=\"" << kMarginLeft - 6 << "\" y=\"" << py + 4
        << "\" text-anchor=\"end\" font-size=\"11\">" << number(t) << "</text>\n";
  }
  out << "<text x=\"" << kMarginLeft + kPlotWidth / 2 << "\" y=\"" << kChartHeight - 10
      << "\" text-anchor=\"middle\" font-size=\"12\">" << escape(chart.x_label) << "</text>\n";
  out << "<text transform=\"translate(16," << kMarginTop + kPlotHeight / 2
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" << escape(chart.y_label)
      << "</text>\n";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const std::string color = escape(s.color);
    out << "<g class=\"series\" data-label=\"" << escape(s.label) << "\">\n<polyline points=\"";
    const char* separator = "";
    for (const auto& p : s.points) {
      if (!finite_point(p)) continue;
      out << separator << x.map(p.first) << "," << y.map(p.second);
      separator = " ";
    }
    out << "\" fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
    for (const auto& p : s.points) {
      if (!finite_point(p)) continue;
      out << "<circle cx=\"" << x.map(p.first) << "\" cy=\"" << y.map(p.second)
          << "\" r=\"3\" fill=\"" << color << "\"><title>" << escape(s.label) << " "
          << number(p.first) << ": " << number(p.second) << "</title></circle>\n";
    }
    // The legend: a swatch and the label per series, in a row above the plot's right end
    // (outside it, so that no curve runs under it).
    const int ly = 22;
    const int lx =
        kMarginLeft + kPlotWidth - kLegendWidth * static_cast<int>(chart.series.size() - i);
    out << "<line x1=\"" << lx << "\" y1=\"" << ly - 4 << "\" x2=\"" << lx + 18 << "\" y2=\""
        << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n"
        << "<text x=\"" << lx + 24 << "\" y=\"" << ly << "\" font-size=\"11\">" << escape(s.label)
        << "</text>\n</g>\n";
  }
  out << "</g>\n";
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (lo == hi) {  // one value: a unit-wide range around it (or 10% of its size)
    const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
    lo -= half;
    hi += half;
  }
  const double rough = (hi - lo) / std::max(count, 1);
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = 10 * power;
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * power >= rough) {
      step = m * power;
      break;
    }
  }
  // Tick k is k * step (not an accumulated sum), so 0.1 steps print as 0.3, not 0.30000004.
  const auto first = static_cast<int64_t>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (int64_t k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::string render_svg(const std::vector<Chart>& charts) {
  const int width = kChartWidth * static_cast<int>(std::max<size_t>(charts.size(), 1));
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << kChartHeight << "\" viewBox=\"0 0 " << width << " " << kChartHeight
      << "\" font-family=\"sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < charts.size(); ++i)
    render_chart(out, charts[i], kChartWidth * static_cast<int>(i));
  out << "</svg>\n";
  return out.str();
}

}  // namespace graft::examples
