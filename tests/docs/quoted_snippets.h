// Test helper for the docs tests: the snippets a test file marks for a page to quote, so
// the page can be checked against code that is compiled and run. A snippet is the lines
// between `<marker><name>` and `<marker>end` (marker e.g. "// tour: "), less the marker
// line's indent. Files are found from GRAFT_SOURCE_DIR, never from __FILE__: a build
// records __FILE__ relative to its own folder, and a check that silently skips when the
// path does not resolve is a check that never runs.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace graft::testing {

// The text of a file under the source tree (path relative to the root); a missing file
// fails the test that asked.
inline std::string source_file_text(const std::string& relative_path) {
  const std::string path = std::string(GRAFT_SOURCE_DIR) + "/" + relative_path;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct QuotedSnippet {
  std::string name;
  std::string text;
};

inline std::vector<QuotedSnippet> quoted_snippets(const std::string& source,
                                                  const std::string& marker) {
  std::vector<QuotedSnippet> found;
  std::istringstream lines(source);
  std::string line;
  bool inside = false;
  size_t indent = 0;
  while (std::getline(lines, line)) {
    const size_t start = line.find_first_not_of(' ');
    const std::string text = start == std::string::npos ? "" : line.substr(start);
    if (text.rfind(marker, 0) != 0) {
      if (inside) found.back().text += (line.size() > indent ? line.substr(indent) : "") + "\n";
      continue;
    }
    const std::string name = text.substr(marker.size());
    inside = name != "end";
    if (inside) {
      found.push_back({name, ""});
      indent = start;
    }
  }
  return found;
}

}  // namespace graft::testing
