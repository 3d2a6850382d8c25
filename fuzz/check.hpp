#pragma once
// What every fuzz target uses to report a broken property: print what and where, then abort so
// that libFuzzer records the input as a crash.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace syndic::fuzz {

// SYNDIC_FUZZ_SKIP="name,name" turns off named checks, so that a campaign can go on past a
// defect already recorded in the notes (see docs/fuzzing.md). Names are those passed to
// check().
inline bool skipped(std::string_view name) {
  static const char* env = std::getenv("SYNDIC_FUZZ_SKIP");
  if (!env) return false;
  std::string_view list(env);
  while (!list.empty()) {
    auto comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

[[noreturn]] inline void fail(std::string_view name, std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n== syndic fuzz check '%.*s' failed: %.*s\n", static_cast<int>(name.size()),
               name.data(), static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    auto shown = detail.substr(0, 4096);
    std::fprintf(stderr, "---- (%zu bytes%s)\n%.*s\n----\n", detail.size(),
                 detail.size() > shown.size() ? ", first 4096 shown" : "",
                 static_cast<int>(shown.size()), shown.data());
  }
  std::abort();
}

inline void check(bool ok, std::string_view name, std::string_view what, std::string_view detail = {}) {
  if (!ok && !skipped(name)) fail(name, what, detail);
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF): the offset of the first
// byte that is not part of a valid sequence, or npos.
inline std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    std::size_t n;
    char32_t cp, min;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; min = 0x10000; }
    else return i;
    if (i + n >= s.size()) return i;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

inline bool valid_utf8(std::string_view s) { return invalid_utf8_at(s) == std::string_view::npos; }

// Up to 200 bytes either side of `at`, for messages.
inline std::string around(std::string_view s, std::size_t at) {
  if (at > s.size()) at = s.size();
  std::size_t from = at > 200 ? at - 200 : 0;
  return "at byte " + std::to_string(at) + ": ..." + std::string(s.substr(from, 400)) + "...";
}

}  // namespace syndic::fuzz
