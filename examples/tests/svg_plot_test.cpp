// The SVG charts: nice tick values, a well-formed document (every tag closed, in order),
// one circle per finite point placed where the axes say, escaped text.
#include "svg_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <vector>

namespace graft::examples {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pointwise;

// Checks that the tags of `xml` nest properly; returns the first problem, or "" when none.
// A small independent parser: elements, self-closing tags, the <?xml?> declaration.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string::npos) {
    const size_t end = xml.find('>', pos);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(pos);
    const std::string tag = xml.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.starts_with("?")) continue;
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1))
        return "unexpected </" + tag.substr(1) + ">";
      open.pop_back();
    } else if (!tag.ends_with("/")) {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

struct Circle {
  double cx, cy;
  std::string title;
};
std::vector<Circle> circles(const std::string& svg) {
  static const std::regex kCircle(
      R"re(<circle cx="([-0-9.e]+)" cy="([-0-9.e]+)"[^>]*><title>([^<]*)</title>)re");
  std::vector<Circle> out;
  for (std::sregex_iterator it(svg.begin(), svg.end(), kCircle), end; it != end; ++it)
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2]), (*it)[3]});
  return out;
}

// The plot frame: <rect x y width height> of the first chart.
struct Frame {
  double x, y, width, height;
};
Frame frame(const std::string& svg) {
  static const std::regex kRect(
      R"re(<rect x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)" height="([0-9.]+)")re");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, kRect));
  return {std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4])};
}

// Ticks are k * step, so 3 * 0.2 is 0.6000000000000001: compare to the decimal values nearly.
auto ticks_are(std::vector<double> expected) {
  return Pointwise(DoubleNear(1e-12), std::move(expected));
}

TEST(NiceTicks, StepsAreOneTwoOrFiveTimesAPowerOfTen) {
  // (hi - lo) / 5 rounded up to a nice step: 0.2, 1, 0.02, 50.
  EXPECT_THAT(nice_ticks(0, 1), ticks_are({0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_THAT(nice_ticks(1, 5), ticks_are({1, 2, 3, 4, 5}));
  // Outward to the enclosing multiples: 0.853 -> 0.84, 0.912 -> 0.92.
  const std::vector<double> accuracy = nice_ticks(0.853, 0.912);
  ASSERT_EQ(accuracy.size(), 5u);
  EXPECT_DOUBLE_EQ(accuracy.front(), 0.84);
  EXPECT_DOUBLE_EQ(accuracy.back(), 0.92);
  EXPECT_THAT(nice_ticks(-120, 90), ticks_are({-150, -100, -50, 0, 50, 100}));
}

TEST(NiceTicks, OneValueGetsARangeAroundIt) {
  const std::vector<double> around_two = nice_ticks(2, 2);
  EXPECT_LT(around_two.front(), 2);
  EXPECT_GT(around_two.back(), 2);
  EXPECT_THAT(nice_ticks(0, 0), ticks_are({-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6}));
}

Chart two_points() { return {"loss", "epoch", "value", {{"train", "#123456", {{1, 0}, {3, 1}}}}}; }

TEST(RenderSvg, IsAWellFormedSvgDocument) {
  const std::string svg = render_svg({two_points(), two_points()});
  EXPECT_TRUE(svg.starts_with("<?xml"));
  EXPECT_THAT(svg, HasSubstr("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\""));
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  // The checker itself catches a broken document.
  EXPECT_EQ(xml_problem("<svg><g></svg>"), "unexpected </svg>");
  EXPECT_EQ(xml_problem("<svg><g/>"), "unclosed <svg>");
}

TEST(RenderSvg, DrawsEachPointWhereTheAxesPutIt) {
  const std::string svg = render_svg({two_points()});
  const Frame f = frame(svg);
  // The data range [1, 3] x [0, 1] is also the tick range, so the points are the corners:
  // (1, 0) bottom-left, (3, 1) top-right (SVG's y grows downwards).
  const std::vector<Circle> points = circles(svg);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].cx, f.x);
  EXPECT_DOUBLE_EQ(points[0].cy, f.y + f.height);
  EXPECT_DOUBLE_EQ(points[1].cx, f.x + f.width);
  EXPECT_DOUBLE_EQ(points[1].cy, f.y);
  EXPECT_EQ(points[0].title, "train 1: 0");
  EXPECT_EQ(points[1].title, "train 3: 1");
  EXPECT_THAT(svg, HasSubstr("<polyline points=\"" + std::to_string(static_cast<int>(f.x))));
  EXPECT_THAT(svg, HasSubstr("stroke=\"#123456\""));
  EXPECT_THAT(svg, HasSubstr(">loss</text>"));
  EXPECT_THAT(svg, HasSubstr(">epoch</text>"));
  EXPECT_THAT(svg, HasSubstr(">train</text>"));  // the legend
}

TEST(RenderSvg, MidpointsLandHalfway) {
  Chart chart = two_points();
  chart.series[0].points.emplace_back(2, 0.5);
  const std::string svg = render_svg({chart});
  const Frame f = frame(svg);
  const Circle mid = circles(svg).at(2);
  EXPECT_DOUBLE_EQ(mid.cx, f.x + f.width / 2);
  EXPECT_DOUBLE_EQ(mid.cy, f.y + f.height / 2);
  EXPECT_EQ(mid.title, "train 2: 0.5");
}

TEST(RenderSvg, LeavesOutPointsThatAreNotFinite) {
  Chart chart = two_points();
  chart.series[0].points.emplace_back(4, NAN);
  chart.series[0].points.emplace_back(INFINITY, 1);
  const std::string svg = render_svg({chart});
  EXPECT_EQ(circles(svg).size(), 2u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(RenderSvg, EscapesText) {
  Chart chart = two_points();
  chart.title = "loss <train & test>";
  chart.series[0].label = "a\"b";
  const std::string svg = render_svg({chart});
  EXPECT_THAT(svg, HasSubstr("loss &lt;train &amp; test&gt;"));
  EXPECT_THAT(svg, HasSubstr("a&quot;b 1: 0"));
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(RenderSvg, EmptyChartsAndSeriesStillMakeADocument) {
  EXPECT_EQ(xml_problem(render_svg({})), "");
  const std::string svg = render_svg({Chart{"empty", "x", "y", {{"none", "red", {}}}}});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_TRUE(circles(svg).empty());
}

}  // namespace
}  // namespace graft::examples
