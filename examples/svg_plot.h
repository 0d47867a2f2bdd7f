// Line charts as a hand-written SVG file, for graft-train's loss and accuracy curves.
//
// SVG is text, so a few hundred lines of C++ make an image any browser opens, with no
// plotting library to install. The output is deliberately plain: charts side by side, each
// with a frame, "nice" tick values (1, 2 or 5 times a power of ten), axis labels, a legend,
// and per series a polyline plus one circle per point whose <title> shows the exact value
// when the mouse is over it.
//
//   Chart loss{"loss", "epoch", "cross-entropy",
//              {{"train", "#1f77b4", {{1, 0.52}, {2, 0.37}}}, {"test", "#d62728", {...}}}};
//   write_text_file(out / "curves.svg", render_svg({loss, accuracy}));
//
// Points whose x or y is not finite (a diverged loss) are left out rather than failing the
// run that is being plotted.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace graft::examples {

struct Series {
  std::string label;
  std::string color;                              // any SVG colour: "#1f77b4", "red"
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
};

// Each chart's size in SVG user units (pixels).
constexpr int kChartWidth = 480;
constexpr int kChartHeight = 320;

// One SVG document with the charts side by side, left to right. Text is XML-escaped.
std::string render_svg(const std::vector<Chart>& charts);

// Tick values covering [lo, hi] (lo <= hi): multiples of the smallest nice step (1, 2 or 5
// times a power of ten) at least (hi - lo) / count, from the last one <= lo to the first one
// >= hi, so the ticks also give the axis range (count + 2 ticks at most). lo == hi gets a
// range of its own around the value.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

}  // namespace graft::examples
