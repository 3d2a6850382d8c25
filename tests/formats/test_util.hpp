#pragma once
// Helpers shared by the formats tests.

#include <syndic/formats/parse.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace syndic::formats::testing {

// Parses and asserts a feed came out; returns it (empty feed on failure, test already failed).
inline feed must_parse(std::string_view doc, const parse_options& o = {}) {
  parse_result r = parse(doc, o);
  EXPECT_TRUE(r.ok()) << "no feed from:\n" << doc.substr(0, 400);
  for (const auto& d : r.diagnostics)
    if (d.level == severity::fatal) ADD_FAILURE() << format_diagnostic(d);
  return r.value ? *r.value : feed{};
}

inline bool has_code(const parse_result& r, diag_code c) {
  for (const auto& d : r.diagnostics)
    if (d.code == c) return true;
  return false;
}

inline std::string diags_text(const parse_result& r) {
  std::string s;
  for (const auto& d : r.diagnostics) s += format_diagnostic(d) + "\n";
  return s;
}

}  // namespace syndic::formats::testing
