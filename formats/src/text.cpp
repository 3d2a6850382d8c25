#include "text.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace syndic::formats::detail {
namespace {

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Makes room for `extra` more bytes while keeping growth geometric. A plain
// reserve(size() + extra) would do that on libstdc++, but not on every library, and renderers
// call the append functions many times on one growing string.
void reserve_more(std::string& out, std::size_t extra) {
  if (out.capacity() - out.size() >= extra) return;
  out.reserve(std::max(out.size() + extra, out.capacity() * 2));
}

void note_problem(entity_stats* stats, std::size_t entity_stats::*counter, std::size_t offset) {
  if (!stats) return;
  ++(stats->*counter);
  if (stats->first_problem == std::string_view::npos) stats->first_problem = offset;
}

std::string_view xml_entity(std::string_view name) {
  if (name == "amp") return "&";
  if (name == "lt") return "<";
  if (name == "gt") return ">";
  if (name == "quot") return "\"";
  if (name == "apos") return "'";
  return {};
}

// Decodes the reference starting at raw[amp] (which is '&'), appends its value (or a literal
// '&' when it is none) and returns the offset just after what it consumed. `last_unknown` is
// the name of the last "&name;" found to be no entity: the same name again is not looked up
// (declared entities left unexpanded past their budget are thousands of the same reference,
// and each HTML lookup is a binary search of 2,125 names).
std::size_t decode_reference(std::string_view raw, std::size_t amp, std::string& out,
                             entity_stats* stats, entity_set set, std::string_view& last_unknown) {
  const std::size_t n = raw.size();
  std::size_t i = amp + 1;

  if (i < n && raw[i] == '#') {
    ++i;
    // HTML accepts 'X' too; so do we, it is unambiguous.
    const bool hex = i < n && (raw[i] == 'x' || raw[i] == 'X');
    if (hex) ++i;
    const std::size_t digits = i;
    constexpr std::uint32_t too_big = 0x110000;
    std::uint32_t value = 0;
    for (; i < n; ++i) {
      const int d = hex ? hex_value(raw[i]) : (raw[i] >= '0' && raw[i] <= '9' ? raw[i] - '0' : -1);
      if (d < 0) break;
      // Saturate instead of overflowing: &#99999999999; must stay out of range, not wrap.
      value = value * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
      if (value > too_big) value = too_big;
    }
    if (i == digits) {  // "&#;" "&#x" "&#foo": not a reference
      note_problem(stats, &entity_stats::bare_ampersands, amp);
      out.push_back('&');
      return amp + 1;
    }
    bool bad = false;
    if (i < n && raw[i] == ';') {
      ++i;
    } else if (set == entity_set::html) {
      bad = true;  // HTML decodes "&#233 " anyway, and so will the browser showing it
    } else {
      note_problem(stats, &entity_stats::bare_ampersands, amp);
      out.push_back('&');
      return amp + 1;
    }
    char32_t cp = value;
    if (value == 0 || value >= too_big || (value >= 0xD800 && value <= 0xDFFF) ||
        (value < 0x20 && value != '\t' && value != '\n' && value != '\r') || value == 0xFFFE ||
        value == 0xFFFF) {
      // Not a character XML can carry; U+FFFD shows something was there.
      cp = 0xFFFD;
      bad = true;
    } else if (set == entity_set::html && value >= 0x80 && value <= 0x9F) {
      // C1 controls are never meant: "&#150;" is a windows-1252 en dash written by a tool that
      // confused bytes with code points. HTML maps them the same way.
      cp = windows_1252_code_point(static_cast<unsigned char>(value));
      bad = true;
    }
    if (bad) note_problem(stats, &entity_stats::bad_numeric, amp);
    append_utf8(out, cp);
    return i;
  }

  while (i < n && is_ascii_alnum(raw[i])) ++i;
  const std::string_view name = raw.substr(amp + 1, i - amp - 1);
  if (name.empty()) {
    note_problem(stats, &entity_stats::bare_ampersands, amp);
    out.push_back('&');
    return amp + 1;
  }
  if (i < n && raw[i] == ';') {
    std::string_view value;
    if (name != last_unknown) {
      value = xml_entity(name);
      if (value.empty() && set == entity_set::html) {
        value = lookup_html_entity(name);
        if (!value.empty()) note_problem(stats, &entity_stats::html_named, amp);
      }
    }
    if (value.empty()) {
      last_unknown = name;
      note_problem(stats, &entity_stats::unknown, amp);
      out.push_back('&');
      return amp + 1;
    }
    out.append(value);
    return i + 1;
  }
  // No ';'. The name run is maximal, so the next character is not alphanumeric; '=' is excluded
  // because "&copy=2" is far more likely a query string than a copyright sign.
  if (set == entity_set::html && (i == n || raw[i] != '=')) {
    const std::string_view value = lookup_legacy_html_entity(name);
    if (!value.empty()) {
      note_problem(stats, &entity_stats::html_named, amp);
      out.append(value);
      return i;
    }
  }
  note_problem(stats, &entity_stats::bare_ampersands, amp);
  out.push_back('&');
  return amp + 1;
}

constexpr std::array<char16_t, 32> windows_1252_high = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 80-87
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,  // 88-8F
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 90-97
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,  // 98-9F
};

// What the escapers do with each byte. Tables keep the common case (a safe byte) to one load
// and one compare, so runs of safe bytes are found quickly and appended in one call.
enum escape_action : std::uint8_t {
  keep = 0,
  replace,     // append the escape for this byte
  drop,        // XML cannot represent it
  maybe_nonchar,  // 0xEF: may start U+FFFE or U+FFFF
};

enum class escape_mode : std::uint8_t { xml_text, xml_attr, json };

constexpr std::array<std::uint8_t, 256> make_escape_table(escape_mode mode) {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = mode == escape_mode::json ? replace : drop;
  if (mode == escape_mode::json) {
    t['"'] = replace;
    t['\\'] = replace;
    return t;
  }
  t['\r'] = replace;
  t['\t'] = mode == escape_mode::xml_attr ? replace : keep;
  t['\n'] = mode == escape_mode::xml_attr ? replace : keep;
  t['&'] = replace;
  t['<'] = replace;
  t['>'] = replace;
  if (mode == escape_mode::xml_attr) t['"'] = replace;
  t[0xEF] = maybe_nonchar;
  return t;
}

constexpr auto xml_text_table = make_escape_table(escape_mode::xml_text);
constexpr auto xml_attr_table = make_escape_table(escape_mode::xml_attr);
constexpr auto json_table = make_escape_table(escape_mode::json);

std::string_view xml_replacement(char c) {
  switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\t': return "&#9;";
    case '\n': return "&#10;";
    case '\r': return "&#13;";
    default: return {};
  }
}

void append_json_replacement(std::string& out, char c) {
  switch (c) {
    case '"': out.append("\\\""); return;
    case '\\': out.append("\\\\"); return;
    case '\n': out.append("\\n"); return;
    case '\t': out.append("\\t"); return;
    case '\r': out.append("\\r"); return;
    case '\b': out.append("\\b"); return;
    case '\f': out.append("\\f"); return;
    default: {
      static constexpr char hex[] = "0123456789abcdef";
      const auto b = static_cast<unsigned char>(c);
      const char esc[] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 0xF]};
      out.append(esc, sizeof esc);
    }
  }
}

template <escape_mode mode>
void append_escaped(std::string& out, std::string_view text) {
  constexpr const std::array<std::uint8_t, 256>& table =
      mode == escape_mode::json ? json_table
                                : (mode == escape_mode::xml_attr ? xml_attr_table : xml_text_table);
  reserve_more(out, text.size());
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* run = p;
  while (p != end) {
    const std::uint8_t action = table[static_cast<unsigned char>(*p)];
    if (action == keep) {
      ++p;
      continue;
    }
    if (action == maybe_nonchar) {
      // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
      if (end - p >= 3 && static_cast<unsigned char>(p[1]) == 0xBF &&
          (static_cast<unsigned char>(p[2]) & 0xFE) == 0xBE) {
        out.append(run, static_cast<std::size_t>(p - run));
        p += 3;
        run = p;
      } else {
        ++p;
      }
      continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    if (action == replace) {
      if constexpr (mode == escape_mode::json) {
        append_json_replacement(out, *p);
      } else {
        out.append(xml_replacement(*p));
      }
    }
    ++p;
    run = p;
  }
  out.append(run, static_cast<std::size_t>(end - run));
}

struct utf8_step {
  std::size_t length;  // of the well-formed sequence, or of the maximal ill-formed subpart
  bool valid;
};

// Classifies the sequence at p[0..n) (n >= 1) following Unicode table 3-7. The second byte's
// range depends on the lead byte; that is what rules out overlongs, surrogates and > U+10FFFF.
utf8_step step_utf8(const unsigned char* p, std::size_t n) {
  const unsigned char b = p[0];
  if (b < 0x80) return {1, true};
  std::size_t trail;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    trail = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    trail = 2;
    if (b == 0xE0) lo = 0xA0;       // overlong
    else if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    trail = 3;
    if (b == 0xF0) lo = 0x90;       // overlong
    else if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};  // 80-C1 (continuation or overlong lead), F5-FF
  }
  for (std::size_t i = 1; i <= trail; ++i) {
    if (i >= n || p[i] < lo || p[i] > hi) return {i, false};
    lo = 0x80;
    hi = 0xBF;
  }
  return {trail + 1, true};
}

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

// Offset of the first byte that is not ASCII, checking 8 bytes per step.
std::size_t skip_ascii(const unsigned char* p, std::size_t i, std::size_t n) {
  while (n - i >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & high_bits) break;
    i += 8;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

// Offset of the first ill-formed sequence, or npos.
std::size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (true) {
    i = skip_ascii(p, i, n);
    if (i == n) return std::string_view::npos;
    const utf8_step st = step_utf8(p + i, n - i);
    if (!st.valid) return i;
    i += st.length;
  }
}

}  // namespace

void decode_entities(std::string_view raw, std::string& out, entity_stats* stats,
                     entity_set set) {
  const void* first = raw.empty() ? nullptr : std::memchr(raw.data(), '&', raw.size());
  if (!first) {
    out.append(raw);
    return;
  }
  // References almost never grow when decoded, so the input size is the right reservation.
  reserve_more(out, raw.size());
  std::size_t literal = 0;
  std::size_t amp = static_cast<std::size_t>(static_cast<const char*>(first) - raw.data());
  std::string_view last_unknown;
  while (true) {
    out.append(raw.data() + literal, amp - literal);
    literal = decode_reference(raw, amp, out, stats, set, last_unknown);
    const std::size_t next = raw.find('&', literal);
    if (next == std::string_view::npos) break;
    amp = next;
  }
  out.append(raw.data() + literal, raw.size() - literal);
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  const std::size_t begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return s.substr(s.size());
  const std::size_t end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

void append_utf8(std::string& out, char32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  char buf[4];
  std::size_t len;
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    len = 1;
  } else if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 2;
  } else if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 4;
  }
  out.append(buf, len);
}

char32_t windows_1252_code_point(unsigned char b) {
  return b >= 0x80 && b <= 0x9F ? windows_1252_high[b - 0x80] : b;
}

void append_xml_escaped(std::string& out, std::string_view text) {
  append_escaped<escape_mode::xml_text>(out, text);
}

void append_xml_attr_escaped(std::string& out, std::string_view text) {
  append_escaped<escape_mode::xml_attr>(out, text);
}

void append_json_escaped(std::string& out, std::string_view text) {
  append_escaped<escape_mode::json>(out, text);
}

bool is_valid_utf8(std::string_view s) {
  return find_invalid_utf8(s) == std::string_view::npos;
}

utf8_census scan_utf8(std::string_view s) {
  utf8_census c;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (true) {
    i = skip_ascii(p, i, n);
    if (i == n) return c;
    const utf8_step st = step_utf8(p + i, n - i);
    if (st.valid) {
      ++c.multibyte;
    } else {
      if (c.invalid_sequences == 0) c.first_invalid = i;
      ++c.invalid_sequences;
      c.invalid_bytes += st.length;
    }
    i += st.length;
  }
}

std::size_t repair_utf8(std::string& s) {
  const std::size_t first = find_invalid_utf8(s);
  if (first == std::string_view::npos) return 0;
  std::string fixed;
  fixed.reserve(s.size() + 16);
  fixed.append(s, 0, first);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t replaced = 0;
  std::size_t i = first;
  while (i < n) {
    const std::size_t ascii_end = skip_ascii(p, i, n);
    fixed.append(s, i, ascii_end - i);
    i = ascii_end;
    if (i == n) break;
    const utf8_step st = step_utf8(p + i, n - i);
    if (st.valid) {
      fixed.append(s, i, st.length);
    } else {
      fixed.append("\xEF\xBF\xBD");
      ++replaced;
    }
    i += st.length;
  }
  s = std::move(fixed);
  return replaced;
}

}  // namespace syndic::formats::detail
