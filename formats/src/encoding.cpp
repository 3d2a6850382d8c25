#include "encoding.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "text.hpp"

namespace syndic::formats::detail {
namespace {

enum class family : std::uint8_t {
  utf8,
  utf16, utf16le, utf16be,  // plain utf16/utf32: endianness still to be found from the bytes
  utf32, utf32le, utf32be,
  windows_1252,  // built-in decoder; also what iso-8859-1 claims get
  us_ascii,      // read as windows-1252 too, but non-ASCII bytes contradict the claim
  other,         // converted by iconv
};

bool is_wide(family f) { return f >= family::utf16 && f <= family::utf32be; }

std::string_view wide_name(family f) {
  switch (f) {
    case family::utf16: return "utf-16";
    case family::utf16le: return "utf-16le";
    case family::utf16be: return "utf-16be";
    case family::utf32: return "utf-32";
    case family::utf32le: return "utf-32le";
    case family::utf32be: return "utf-32be";
    default: return "utf-8";
  }
}

// Whether a claim of `claimed` is consistent with bytes found to be `actual`.
bool agrees(family claimed, family actual) {
  if (claimed == actual) return true;
  if (claimed == family::utf16) return actual == family::utf16le || actual == family::utf16be;
  if (claimed == family::utf32) return actual == family::utf32le || actual == family::utf32be;
  return false;
}

struct charset {
  std::string name;        // canonical, lower case
  std::string iconv_name;  // for family::other
  family fam = family::other;
  bool ascii_superset = false;    // bytes < 0x80 are ASCII in every state: all-ASCII input
                                  // needs no conversion (not true of ISO-2022-JP)
  bool ascii_compatible = false;  // an XML declaration written in ASCII reads the same
};

struct alias {
  std::string_view key;  // normalised label: lower-case letters and digits only
  std::string_view name;
  std::string_view iconv_name;
  family fam;
  bool ascii_superset;
};

using f = family;
// WHATWG's labels (https://encoding.spec.whatwg.org/#names-and-labels) plus common spellings;
// iso-8859-N, latinN and windows-125N are handled by pattern in resolve_charset.
constexpr alias windows_1252_alias{"windows1252", "windows-1252", "", f::windows_1252, true};

constexpr auto aliases = std::to_array<alias>({
    {"utf8", "utf-8", "", f::utf8, true},
    {"u8", "utf-8", "", f::utf8, true},
    {"unicode11utf8", "utf-8", "", f::utf8, true},
    {"unicode20utf8", "utf-8", "", f::utf8, true},
    {"xunicode20utf8", "utf-8", "", f::utf8, true},
    {"utf16", "utf-16", "", f::utf16, false},
    {"u16", "utf-16", "", f::utf16, false},  // Python's short names, seen in feeds
    {"ucs2", "utf-16", "", f::utf16, false},
    {"unicode", "utf-16", "", f::utf16, false},
    {"iso10646ucs2", "utf-16", "", f::utf16, false},
    {"csunicode", "utf-16", "", f::utf16, false},
    {"utf16le", "utf-16le", "", f::utf16le, false},
    {"ucs2le", "utf-16le", "", f::utf16le, false},
    {"unicodefeff", "utf-16le", "", f::utf16le, false},
    {"utf16be", "utf-16be", "", f::utf16be, false},
    {"ucs2be", "utf-16be", "", f::utf16be, false},
    {"unicodefffe", "utf-16be", "", f::utf16be, false},
    {"utf32", "utf-32", "", f::utf32, false},
    {"u32", "utf-32", "", f::utf32, false},
    {"ucs4", "utf-32", "", f::utf32, false},
    {"iso10646ucs4", "utf-32", "", f::utf32, false},
    {"utf32le", "utf-32le", "", f::utf32le, false},
    {"ucs4le", "utf-32le", "", f::utf32le, false},
    {"utf32be", "utf-32be", "", f::utf32be, false},
    {"ucs4be", "utf-32be", "", f::utf32be, false},
    {"windows1252", "windows-1252", "", f::windows_1252, true},
    {"cp1252", "windows-1252", "", f::windows_1252, true},
    {"xcp1252", "windows-1252", "", f::windows_1252, true},
    {"iso8859", "windows-1252", "", f::windows_1252, true},
    {"latin1", "windows-1252", "", f::windows_1252, true},
    {"l1", "windows-1252", "", f::windows_1252, true},
    {"isoir100", "windows-1252", "", f::windows_1252, true},
    {"cp819", "windows-1252", "", f::windows_1252, true},
    {"ibm819", "windows-1252", "", f::windows_1252, true},
    {"csisolatin1", "windows-1252", "", f::windows_1252, true},
    {"usascii", "windows-1252", "", f::us_ascii, true},
    {"ascii", "windows-1252", "", f::us_ascii, true},
    {"ansix341968", "windows-1252", "", f::us_ascii, true},
    {"iso646us", "windows-1252", "", f::us_ascii, true},
    {"iso646irv1991", "windows-1252", "", f::us_ascii, true},
    {"isoir6", "windows-1252", "", f::us_ascii, true},
    {"cp367", "windows-1252", "", f::us_ascii, true},
    {"ibm367", "windows-1252", "", f::us_ascii, true},
    {"csascii", "windows-1252", "", f::us_ascii, true},
    {"us", "windows-1252", "", f::us_ascii, true},
    {"iso88598i", "iso-8859-8", "ISO-8859-8", f::other, true},
    {"csiso88598i", "iso-8859-8", "ISO-8859-8", f::other, true},
    {"cyrillic", "iso-8859-5", "ISO-8859-5", f::other, true},
    {"arabic", "iso-8859-6", "ISO-8859-6", f::other, true},
    {"greek", "iso-8859-7", "ISO-8859-7", f::other, true},
    {"hebrew", "iso-8859-8", "ISO-8859-8", f::other, true},
    {"koi8r", "koi8-r", "KOI8-R", f::other, true},
    {"koi8", "koi8-r", "KOI8-R", f::other, true},
    {"koi", "koi8-r", "KOI8-R", f::other, true},
    {"cskoi8r", "koi8-r", "KOI8-R", f::other, true},
    {"koi8u", "koi8-u", "KOI8-U", f::other, true},
    {"koi8ru", "koi8-u", "KOI8-U", f::other, true},
    {"ibm866", "ibm866", "CP866", f::other, true},
    {"cp866", "ibm866", "CP866", f::other, true},
    {"866", "ibm866", "CP866", f::other, true},
    {"csibm866", "ibm866", "CP866", f::other, true},
    {"macintosh", "macintosh", "MACINTOSH", f::other, true},
    {"mac", "macintosh", "MACINTOSH", f::other, true},
    {"macroman", "macintosh", "MACINTOSH", f::other, true},
    {"xmacroman", "macintosh", "MACINTOSH", f::other, true},
    {"csmacintosh", "macintosh", "MACINTOSH", f::other, true},
    {"xmaccyrillic", "x-mac-cyrillic", "MAC-CYRILLIC", f::other, true},
    {"xmacukrainian", "x-mac-cyrillic", "MAC-CYRILLIC", f::other, true},
    {"maccyrillic", "x-mac-cyrillic", "MAC-CYRILLIC", f::other, true},
    {"windows874", "windows-874", "CP874", f::other, true},
    {"cp874", "windows-874", "CP874", f::other, true},
    {"dos874", "windows-874", "CP874", f::other, true},
    {"tis620", "windows-874", "CP874", f::other, true},
    {"iso885911", "windows-874", "CP874", f::other, true},
    // Shift_JIS labels mean Microsoft's superset in practice (0x5C is a backslash, NEC
    // extensions are used), as in browsers.
    {"shiftjis", "shift_jis", "CP932", f::other, true},
    {"sjis", "shift_jis", "CP932", f::other, true},
    {"mskanji", "shift_jis", "CP932", f::other, true},
    {"xsjis", "shift_jis", "CP932", f::other, true},
    {"csshiftjis", "shift_jis", "CP932", f::other, true},
    {"windows31j", "shift_jis", "CP932", f::other, true},
    {"ms932", "shift_jis", "CP932", f::other, true},
    {"cp932", "shift_jis", "CP932", f::other, true},
    {"eucjp", "euc-jp", "EUC-JP", f::other, true},
    {"xeucjp", "euc-jp", "EUC-JP", f::other, true},
    {"cseucpkdfmtjapanese", "euc-jp", "EUC-JP", f::other, true},
    {"iso2022jp", "iso-2022-jp", "ISO-2022-JP", f::other, false},
    {"csiso2022jp", "iso-2022-jp", "ISO-2022-JP", f::other, false},
    // GB2312 and GBK labels are decoded as GB18030, their superset, as browsers do.
    {"gbk", "gbk", "GB18030", f::other, true},
    {"gb2312", "gbk", "GB18030", f::other, true},
    {"xgbk", "gbk", "GB18030", f::other, true},
    {"chinese", "gbk", "GB18030", f::other, true},
    {"csgb2312", "gbk", "GB18030", f::other, true},
    {"gb231280", "gbk", "GB18030", f::other, true},
    {"isoir58", "gbk", "GB18030", f::other, true},
    {"csiso58gb231280", "gbk", "GB18030", f::other, true},
    {"cp936", "gbk", "GB18030", f::other, true},
    {"ms936", "gbk", "GB18030", f::other, true},
    {"windows936", "gbk", "GB18030", f::other, true},
    {"gb18030", "gb18030", "GB18030", f::other, true},
    {"big5", "big5", "BIG5-HKSCS", f::other, true},
    {"big5hkscs", "big5", "BIG5-HKSCS", f::other, true},
    {"cnbig5", "big5", "BIG5-HKSCS", f::other, true},
    {"csbig5", "big5", "BIG5-HKSCS", f::other, true},
    {"xxbig5", "big5", "BIG5-HKSCS", f::other, true},
    {"euckr", "euc-kr", "CP949", f::other, true},
    {"cseuckr", "euc-kr", "CP949", f::other, true},
    {"ksc5601", "euc-kr", "CP949", f::other, true},
    {"ksc56011987", "euc-kr", "CP949", f::other, true},
    {"korean", "euc-kr", "CP949", f::other, true},
    {"windows949", "euc-kr", "CP949", f::other, true},
    {"cp949", "euc-kr", "CP949", f::other, true},
    {"isoir149", "euc-kr", "CP949", f::other, true},
    {"csksc56011987", "euc-kr", "CP949", f::other, true},
});

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A label from a document or a header, made safe to quote in a message.
std::string printable(std::string_view label) {
  constexpr std::size_t max = 40;
  std::string out;
  for (std::size_t i = 0; i < label.size() && i < max; ++i) {
    const char c = label[i];
    out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  }
  if (label.size() > max) out.append("...");
  return out;
}

charset from_alias(const alias& a) {
  return charset{std::string(a.name), std::string(a.iconv_name), a.fam, a.ascii_superset,
                 !is_wide(a.fam)};
}

charset single_byte(std::string name, std::string iconv_name) {
  return charset{std::move(name), std::move(iconv_name), family::other, true, true};
}

// windows-125N and the ISO 8859 parts, WHATWG-style: the parts browsers read as a Windows
// superset (1 → 1252, 9 → 1254, 11 → 874) are read that way here too.
std::optional<charset> numbered_charset(std::string_view key) {
  for (std::string_view prefix : {"windows125", "cp125", "xcp125", "win125"}) {
    if (key.size() == prefix.size() + 1 && key.substr(0, prefix.size()) == prefix) {
      const char d = key.back();
      if (d == '2') return from_alias(windows_1252_alias);
      if (d >= '0' && d <= '8') {
        return single_byte("windows-125" + std::string(1, d), "CP125" + std::string(1, d));
      }
      return std::nullopt;
    }
  }
  int part = 0;
  if (key.size() > 7 && key.substr(0, 7) == "iso8859" && key.size() <= 9 &&
      is_digits(key.substr(7))) {
    part = std::stoi(std::string(key.substr(7)));
  } else {
    // latinN and lN name parts by a different number.
    std::string_view n;
    if (key.size() > 5 && key.substr(0, 5) == "latin") n = key.substr(5);
    else if (key.size() > 1 && key[0] == 'l') n = key.substr(1);
    if (n.empty() || n.size() > 2 || !is_digits(n)) return std::nullopt;
    static constexpr std::array<int, 11> latin_part = {0, 1, 2, 3, 4, 9, 10, 13, 14, 15, 16};
    const int i = std::stoi(std::string(n));
    if (i < 1 || i > 10) return std::nullopt;
    part = latin_part[static_cast<std::size_t>(i)];
  }
  switch (part) {
    case 1: return from_alias(windows_1252_alias);
    case 9: return single_byte("windows-1254", "CP1254");
    case 11: return single_byte("windows-874", "CP874");
    case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 10: case 13: case 14: case 15:
    case 16: {
      const std::string n = std::to_string(part);
      return single_byte("iso-8859-" + n, "ISO-8859-" + n);
    }
    default: return std::nullopt;
  }
}

class iconv_handle {
public:
  explicit iconv_handle(const std::string& from) : cd_(iconv_open("UTF-8", from.c_str())) {}
  ~iconv_handle() {
    if (ok()) iconv_close(cd_);
  }
  iconv_handle(const iconv_handle&) = delete;
  iconv_handle& operator=(const iconv_handle&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(static_cast<std::intptr_t>(-1)); }
  iconv_t get() const { return cd_; }

private:
  iconv_t cd_;
};

// Converts `in` to UTF-8 into `out`, replacing each undecodable byte with U+FFFD instead of
// stopping (glibc's //IGNORE drops them silently and still reports failure). Returns the number
// of replacements.
std::size_t convert_with_iconv(iconv_t cd, std::string_view in, std::string& out) {
  out.clear();
  out.resize(in.size() * 2 + 16);
  char* inp = const_cast<char*>(in.data());  // iconv's signature is not const-correct
  std::size_t inleft = in.size();
  std::size_t used = 0;
  std::size_t replaced = 0;
  bool flushing = false;  // all input consumed; emit what a stateful decoder still holds
  while (true) {
    char* outp = out.data() + used;
    std::size_t outleft = out.size() - used;
    const std::size_t rc = flushing ? iconv(cd, nullptr, nullptr, &outp, &outleft)
                                    : iconv(cd, &inp, &inleft, &outp, &outleft);
    const int err = errno;
    used = static_cast<std::size_t>(outp - out.data());
    if (rc != static_cast<std::size_t>(-1)) {
      if (flushing) break;
      flushing = true;
      continue;
    }
    if (err == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    if (out.size() - used < 3) out.resize(out.size() * 2);
    out.replace(used, 3, "\xEF\xBF\xBD", 3);
    used += 3;
    ++replaced;
    if (!flushing && err == EILSEQ && inleft > 0) {
      ++inp;
      --inleft;
      // Back to the initial shift state, so one bad escape does not garble the rest.
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
      continue;
    }
    if (!flushing && err == EINVAL) {  // the input ends inside a sequence
      flushing = true;
      continue;
    }
    break;  // anything else cannot be retried without risking a loop
  }
  out.resize(used);
  return replaced;
}

// Whether `cs` (reached through iconv) reads XML markup written in ASCII as ASCII. EBCDIC and
// the like do not; a declaration we could read in ASCII cannot be telling the truth about them.
bool reads_ascii_markup(iconv_t cd) {
  constexpr std::string_view probe =
      "<?xml version=\"1.0\" encoding='-_.:'?>\t\r\n"
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<rss/>";
  std::string out;
  return convert_with_iconv(cd, probe, out) == 0 && out == probe;
}

std::optional<charset> resolve_charset(std::string_view label) {
  label = trim(label);
  if (label.size() >= 2 && (label.front() == '"' || label.front() == '\'') &&
      label.back() == label.front()) {
    label = trim(label.substr(1, label.size() - 2));
  }
  if (label.empty() || label.size() > 64) return std::nullopt;
  // "iso_8859-1:1987": the year never matters.
  const std::string_view base = label.substr(0, label.find(':'));
  std::string key;
  for (char c : base) {
    if (c >= 'A' && c <= 'Z') key.push_back(static_cast<char>(c - 'A' + 'a'));
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) key.push_back(c);
  }
  if (key.empty()) return std::nullopt;
  for (const alias& a : aliases) {
    if (a.key == key) return from_alias(a);
  }
  if (auto cs = numbered_charset(key)) return cs;
  // UTF-7 and the ISO-2022 escapes other than -JP let ASCII text smuggle markup past a
  // sanitiser that decodes differently; WHATWG refuses them, so do we.
  for (std::string_view refused : {"utf7", "unicode11utf7", "csunicode11utf7", "hzgb2312",
                                   "iso2022kr", "csiso2022kr", "iso2022cn", "iso2022cnext"}) {
    if (key.substr(0, refused.size()) == refused) return std::nullopt;
  }
  // Anything else glibc knows (IBM037, ISO-8859-10 spelt oddly, ...). The label goes to
  // iconv_open only if it looks like a charset name.
  std::string name;
  for (char c : label) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return std::nullopt;
    name.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  iconv_handle cd(name);
  if (!cd.ok()) return std::nullopt;
  std::string lower;
  for (char c : name) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  return charset{std::move(lower), std::move(name), family::other, false,
                 reads_ascii_markup(cd.get())};
}

struct bom_info {
  family fam;
  std::size_t size;
};

std::optional<bom_info> detect_bom(std::string_view b) {
  auto starts = [b](std::string_view p) { return b.substr(0, p.size()) == p; };
  if (starts("\xEF\xBB\xBF")) return bom_info{family::utf8, 3};
  // UTF-32LE before UTF-16LE: FF FE 00 00 is also a UTF-16LE BOM followed by U+0000, which no
  // document starts with.
  if (starts(std::string_view("\xFF\xFE\0\0", 4))) return bom_info{family::utf32le, 4};
  if (starts(std::string_view("\0\0\xFE\xFF", 4))) return bom_info{family::utf32be, 4};
  if (starts("\xFF\xFE")) return bom_info{family::utf16le, 2};
  if (starts("\xFE\xFF")) return bom_info{family::utf16be, 2};
  return std::nullopt;
}

// UTF-16/32 without a BOM, from where the zero bytes are among the first four: the first
// character of an XML or JSON document is ASCII ('<', '{', whitespace), so in UTF-16 one of its
// two bytes is zero, in UTF-32 three of four. No ASCII-compatible encoding has zero bytes there.
std::optional<family> detect_wide(std::string_view b) {
  if (b.size() < 2) return std::nullopt;
  auto z = [b](std::size_t i) { return i < b.size() && b[i] == '\0'; };
  if (b.size() >= 4 && z(0) && z(1) && z(2) && !z(3)) return family::utf32be;
  if (b.size() >= 4 && !z(0) && z(1) && z(2) && z(3)) return family::utf32le;
  if (z(0) && !z(1)) return family::utf16be;
  if (!z(0) && z(1)) return family::utf16le;
  return std::nullopt;
}

// The leading ASCII characters of a UTF-16/32 text, enough to read an XML declaration.
std::string ascii_head(std::string_view bytes, family fam) {
  constexpr std::size_t limit = 512;
  if (!is_wide(fam)) return std::string(bytes.substr(0, limit));
  const std::size_t unit = fam == family::utf16le || fam == family::utf16be ? 2 : 4;
  const bool le = fam == family::utf16le || fam == family::utf32le;
  std::string out;
  for (std::size_t i = 0; i + unit <= bytes.size() && out.size() < limit; i += unit) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < unit; ++k) {
      const auto byte = static_cast<unsigned char>(bytes[le ? i + unit - 1 - k : i + k]);
      v = (v << 8) | byte;
    }
    if (v == 0 || v >= 0x80) break;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// The encoding pseudo-attribute of an XML declaration at the start of `s`, if any.
std::optional<std::string> declared_encoding(std::string_view s) {
  s = s.substr(0, 1024);
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && is_xml_space(s[i])) ++i;
  };
  // Not well-formed, but some generators emit a blank line first; the intent is clear.
  skip_space();
  if (s.substr(i, 5) != "<?xml") return std::nullopt;
  i += 5;
  if (i >= s.size() || !is_xml_space(s[i])) return std::nullopt;
  while (true) {
    skip_space();
    const std::size_t name_start = i;
    while (i < s.size() && (s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == ':' ||
                            (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                            (s[i] >= '0' && s[i] <= '9'))) {
      ++i;
    }
    if (i == name_start) return std::nullopt;  // "?>" or junk: no encoding given
    const std::string_view name = s.substr(name_start, i - name_start);
    skip_space();
    if (i >= s.size() || s[i] != '=') return std::nullopt;
    ++i;
    skip_space();
    if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) return std::nullopt;
    const std::size_t close = s.find(s[i], i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view value = s.substr(i + 1, close - i - 1);
    i = close + 1;
    if (name == "encoding") return std::string(value);
  }
}

// "1 byte was" / "3 bytes were": messages are read by people.
std::string counted(std::size_t n, std::string_view noun, std::string_view rest) {
  std::string s = std::to_string(n) + " " + std::string(noun);
  if (n != 1) s += "s";
  s += n == 1 ? " was " : " were ";
  s += rest;
  return s;
}

std::string transport_phrase(std::string_view label) {
  return "transport charset '" + printable(trim(label)) + "'";
}

std::string declared_phrase(std::string_view label) {
  return "declared encoding '" + printable(label) + "'";
}

void decode_windows_1252(std::string_view in, std::string& out) {
  out.reserve(in.size() + in.size() / 2);
  std::size_t run = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) continue;
    out.append(in.data() + run, i - run);
    append_utf8(out, windows_1252_code_point(b));
    run = i + 1;
  }
  out.append(in.data() + run, in.size() - run);
}

// Decodes UTF-16/32 by hand: it is simple, and lone surrogates and truncated units become
// U+FFFD exactly as WHATWG's decoder does. Returns the number of replacements.
std::size_t decode_wide(std::string_view in, family fam, std::string& out) {
  const bool le = fam == family::utf16le || fam == family::utf32le;
  const std::size_t unit = fam == family::utf16le || fam == family::utf16be ? 2 : 4;
  auto read = [&](std::size_t i) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < unit; ++k) {
      v = (v << 8) | static_cast<unsigned char>(in[le ? i + unit - 1 - k : i + k]);
    }
    return v;
  };
  out.reserve(in.size() / unit * 3 / 2 + 4);
  std::size_t replaced = 0;
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (n - i >= unit) {
    std::uint32_t v = read(i);
    i += unit;
    if (v < 0x80) {
      out.push_back(static_cast<char>(v));
      continue;
    }
    if (unit == 2 && v >= 0xD800 && v <= 0xDBFF && n - i >= 2) {
      const std::uint32_t low = read(i);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
      ++replaced;
      v = 0xFFFD;
    }
    append_utf8(out, v);
  }
  if (i < n) {  // a truncated last unit
    ++replaced;
    append_utf8(out, 0xFFFD);
  }
  return replaced;
}

void read_wide(std::string_view body, family fam, decoded_text& r) {
  r.charset = wide_name(fam);
  const std::size_t replaced = decode_wide(body, fam, r.utf8);
  if (replaced) {
    r.problems.push_back(
        counted(replaced, "invalid " + r.charset + " sequence", "replaced with U+FFFD"));
  }
}

enum class source : std::uint8_t { none, bom, transport, declaration };

// Reads text that is UTF-8 by claim or by default.
void read_utf8(std::string_view body, source src, decoded_text& r) {
  const utf8_census census = scan_utf8(body);
  if (census.invalid_sequences == 0) {
    r.charset = "utf-8";
    r.unchanged = true;
    return;
  }
  // A BOM is deliberate, and text that is mostly valid multi-byte UTF-8 is UTF-8 with damage;
  // rereading either as windows-1252 would garble every good character to save a few bad ones.
  if (src == source::bom || census.multibyte > census.invalid_sequences) {
    r.charset = "utf-8";
    r.utf8.assign(body);
    repair_utf8(r.utf8);
    r.problems.push_back(counted(census.invalid_bytes, "byte",
                                 "not valid utf-8 and replaced with U+FFFD"));
    return;
  }
  r.charset = "windows-1252";
  decode_windows_1252(body, r.utf8);
  r.problems.push_back(
      counted(census.invalid_bytes, "byte", "not valid utf-8; read as windows-1252"));
}

// Reads an ASCII-compatible charset other than UTF-8; `claim` names where it came from.
void read_legacy(std::string_view body, const charset& cs, const std::string& claim,
                 decoded_text& r) {
  if (cs.fam == family::windows_1252 || cs.fam == family::us_ascii) {
    const utf8_census census = scan_utf8(body);
    if (census.invalid_sequences == 0 && census.multibyte == 0) {
      r.charset = cs.name;
      r.unchanged = true;
      return;
    }
    if (census.invalid_sequences == 0) {
      r.charset = "utf-8";
      r.unchanged = true;
      r.problems.push_back(claim + " ignored: the document is valid utf-8");
      return;
    }
    r.charset = cs.name;
    decode_windows_1252(body, r.utf8);
    if (cs.fam == family::us_ascii) {
      r.problems.push_back(claim + " is wrong: the document is not ASCII; read as windows-1252");
    }
    return;
  }
  if (cs.ascii_superset && is_ascii(body)) {
    r.charset = cs.name;
    r.unchanged = true;
    return;
  }
  iconv_handle cd(cs.iconv_name);
  if (!cd.ok()) {
    r.problems.push_back(claim + " is not available on this system; read as utf-8");
    read_utf8(body, source::none, r);
    return;
  }
  r.charset = cs.name;
  const std::size_t replaced = convert_with_iconv(cd.get(), body, r.utf8);
  // glibc's converters emit valid UTF-8; this only guards the promise in the header.
  const std::size_t repaired = repair_utf8(r.utf8);
  if (replaced + repaired) {
    r.problems.push_back(
        counted(replaced + repaired, "invalid " + cs.name + " sequence", "replaced with U+FFFD"));
  }
}

// The name a reader knows the document's charset by, where the decoder is a superset of the
// label honoured: latin-1 labels (read as windows-1252, as WHATWG does) are "iso-8859-1", a
// us-ascii claim true of the bytes is "us-ascii", and the GB labels, all read by the GB18030
// decoder (WHATWG's gbk decoder is gb18030's), are "gb18030". Otherwise the charset itself.
std::string reader_name(std::string_view label, const charset& cs, std::string_view bytes,
                        const std::string& used) {
  if (used == "windows-1252" && cs.fam == family::windows_1252 &&
      label.find("1252") == std::string_view::npos)
    return "iso-8859-1";
  if (cs.fam == family::us_ascii && is_ascii(bytes)) return "us-ascii";
  if (used == "gbk") return "gb18030";
  return {};
}

bool starts_with_ascii_declaration(std::string_view bytes) {
  return bytes.substr(0, 6) == "<?xml " || bytes.substr(0, 6) == "<?xml\t" ||
         bytes.substr(0, 6) == "<?xml\n" || bytes.substr(0, 6) == "<?xml\r";
}

}  // namespace

decoded_text decode_xml_bytes(std::string_view bytes, std::string_view transport_charset) {
  decoded_text r;
  const bool has_transport = !trim(transport_charset).empty();
  const std::optional<charset> transport =
      has_transport ? resolve_charset(transport_charset) : std::nullopt;

  // 1 and 2: a BOM, or the zero bytes of UTF-16/32. Claims that disagree are reported.
  const std::optional<bom_info> bom = detect_bom(bytes);
  const std::optional<family> found = bom ? std::optional<family>(bom->fam) : detect_wide(bytes);
  if (found) {
    const std::string_view body = bom ? bytes.substr(bom->size) : bytes;
    const std::string evidence =
        bom ? "the byte-order mark says " + std::string(wide_name(*found))
            : "the document is " + std::string(wide_name(*found));
    if (has_transport) {
      if (!transport || !agrees(transport->fam, *found)) {
        r.problems.push_back(transport_phrase(transport_charset) + " ignored: " + evidence);
      }
    } else if (const auto decl = declared_encoding(ascii_head(body, *found))) {
      const std::optional<charset> cs = resolve_charset(*decl);
      // An ASCII-only claim is true of a UTF-8 document that happens to be ASCII; but a BOM
      // makes even that claim wrong in the strict sense, and nobody cares. Only note real
      // contradictions.
      const bool fine = cs && (agrees(cs->fam, *found) ||
                               (*found == family::utf8 && cs->fam == family::us_ascii));
      if (!fine) r.problems.push_back(declared_phrase(*decl) + " ignored: " + evidence);
    }
    if (*found == family::utf8) {
      read_utf8(body, source::bom, r);
      if (r.unchanged) r.skipped = bom->size;
    } else {
      read_wide(body, *found, r);
    }
    return r;
  }

  // 3: the transport, unless it is impossible for these bytes.
  const std::optional<std::string> decl = declared_encoding(bytes);
  std::optional<charset> chosen;
  std::string_view chosen_label;
  std::string claim;
  if (has_transport) {
    const std::string phrase = transport_phrase(transport_charset);
    if (!transport) {
      r.problems.push_back(phrase + " is unknown; ignored");
    } else if (is_wide(transport->fam)) {
      r.problems.push_back(phrase +
                           " ignored: the document has no byte-order mark and no zero bytes");
    } else if (!transport->ascii_compatible && starts_with_ascii_declaration(bytes)) {
      r.problems.push_back(phrase + " ignored: the document starts with an ASCII declaration");
    } else {
      chosen = transport;
      chosen_label = transport_charset;
      claim = phrase;
      // A server default (windows-1251, say) against a document that declares UTF-8 and is
      // valid UTF-8 with non-ASCII text: two witnesses beat one.
      if (chosen->fam != family::utf8 && decl) {
        const std::optional<charset> declared = resolve_charset(*decl);
        if (declared && declared->fam == family::utf8) {
          const utf8_census census = scan_utf8(bytes);
          if (census.invalid_sequences == 0 && census.multibyte > 0) {
            r.problems.push_back(phrase + " ignored: the document declares utf-8 and is valid" +
                                 " utf-8");
            chosen = declared;
            chosen_label = *decl;
          }
        }
      }
    }
  }

  // 4: the declaration.
  if (!chosen && decl) {
    const std::string phrase = declared_phrase(*decl);
    const std::optional<charset> cs = resolve_charset(*decl);
    if (!cs) {
      r.problems.push_back(phrase + " is unknown; read as utf-8");
    } else if (is_wide(cs->fam)) {
      r.problems.push_back(phrase +
                           " ignored: the document has no byte-order mark and no zero bytes;"
                           " read as utf-8");
    } else if (!cs->ascii_compatible) {
      r.problems.push_back(phrase + " cannot be true of an ASCII declaration; read as utf-8");
    } else {
      chosen = cs;
      chosen_label = *decl;
      claim = phrase;
    }
  }

  // 5: UTF-8.
  if (!chosen || chosen->fam == family::utf8) {
    read_utf8(bytes, chosen ? source::declaration : source::none, r);
  } else {
    read_legacy(bytes, *chosen, claim, r);
    r.name = reader_name(chosen_label, *chosen, bytes, r.charset);
  }
  return r;
}

decoded_text decode_json_bytes(std::string_view bytes) {
  decoded_text r;
  const std::optional<bom_info> bom = detect_bom(bytes);
  const std::optional<family> found = bom ? std::optional<family>(bom->fam) : detect_wide(bytes);
  if (found && *found != family::utf8) {
    read_wide(bom ? bytes.substr(bom->size) : bytes, *found, r);
    r.problems.push_back("JSON must be utf-8 (RFC 8259); read as " + r.charset);
    return r;
  }
  if (bom) {
    read_utf8(bytes.substr(bom->size), source::bom, r);
    if (r.unchanged) r.skipped = bom->size;
    return r;
  }
  read_utf8(bytes, source::none, r);
  return r;
}

std::string canonical_charset(std::string_view label) {
  const std::optional<charset> cs = resolve_charset(label);
  return cs ? cs->name : std::string();
}

}  // namespace syndic::formats::detail
