// Tests for encoding.hpp: charset detection and conversion. Every input is built here from
// escape sequences (legacy bytes) or converted from UTF-8 by the helpers below (UTF-16/32), so
// the test needs no files.

#include "encoding.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "text.hpp"

namespace syndic::formats::detail {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

// Code points of valid UTF-8 (test inputs only).
std::u32string code_points(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void put(std::string& out, std::uint32_t unit, std::size_t size, bool le) {
  for (std::size_t k = 0; k < size; ++k) {
    const std::size_t shift = 8 * (le ? k : size - 1 - k);
    out.push_back(static_cast<char>((unit >> shift) & 0xFF));
  }
}

std::string utf16(std::string_view utf8, bool le) {
  std::string out;
  for (char32_t cp : code_points(utf8)) {
    if (cp >= 0x10000) {
      put(out, 0xD800 + ((cp - 0x10000) >> 10), 2, le);
      put(out, 0xDC00 + ((cp - 0x10000) & 0x3FF), 2, le);
    } else {
      put(out, cp, 2, le);
    }
  }
  return out;
}

std::string utf32(std::string_view utf8, bool le) {
  std::string out;
  for (char32_t cp : code_points(utf8)) put(out, cp, 4, le);
  return out;
}

std::string utf16le(std::string_view s) { return utf16(s, true); }
std::string utf16be(std::string_view s) { return utf16(s, false); }
std::string utf32le(std::string_view s) { return utf32(s, true); }
std::string utf32be(std::string_view s) { return utf32(s, false); }

std::string decl(std::string_view encoding) {
  return "<?xml version=\"1.0\" encoding=\"" + std::string(encoding) + "\"?>";
}

const std::string doc = "<t>caf\u00E9 \U0001F600</t>";
const std::string privet_koi8 = "\xF0\xD2\xC9\xD7\xC5\xD4";
const std::string privet_1251 = "\xCF\xF0\xE8\xE2\xE5\xF2";
const std::string privet = "\u041F\u0440\u0438\u0432\u0435\u0442";

struct decode_case {
  std::string name;
  std::string bytes;
  std::string transport;
  std::string text;  // expected UTF-8
  std::string charset;
  bool unchanged;
  std::vector<std::string> problems;  // a substring of each expected problem, in order
};

void PrintTo(const decode_case& c, std::ostream* os) { *os << c.name; }

void check(const decode_case& c, const decoded_text& r) {
  EXPECT_EQ(r.text(c.bytes), c.text);
  EXPECT_EQ(r.charset, c.charset);
  EXPECT_EQ(r.unchanged, c.unchanged);
  if (r.unchanged) {
    EXPECT_TRUE(r.utf8.empty()) << "no copy when unchanged";
  }
  EXPECT_TRUE(is_valid_utf8(r.text(c.bytes)));
  ASSERT_EQ(r.problems.size(), c.problems.size()) << testing::PrintToString(r.problems);
  for (std::size_t i = 0; i < c.problems.size(); ++i) {
    EXPECT_NE(r.problems[i].find(c.problems[i]), std::string::npos)
        << "problem " << i << ": " << r.problems[i] << "\nexpected to contain: " << c.problems[i];
  }
}

class xml_decode : public testing::TestWithParam<decode_case> {};

TEST_P(xml_decode, charset_text_and_problems) {
  const decode_case& c = GetParam();
  check(c, decode_xml_bytes(c.bytes, c.transport));
}

// Fields: name, bytes, transport, expected text, charset, unchanged, problems.
INSTANTIATE_TEST_SUITE_P(
    table, xml_decode,
    testing::Values(
        decode_case{"empty", "", "", "", "utf-8", true, {}},
        decode_case{"ascii_no_declaration", "<rss/>", "", "<rss/>", "utf-8", true, {}},
        decode_case{"utf8_declared", decl("utf-8") + doc, "", decl("utf-8") + doc, "utf-8",
                    true, {}},
        decode_case{"utf8_declared_odd_spelling", decl("UTF_8") + doc, "", decl("UTF_8") + doc,
                    "utf-8", true, {}},
        decode_case{"utf8_no_declaration", doc, "", doc, "utf-8", true, {}},
        // Byte-order marks.
        decode_case{"bom_utf8", "\xEF\xBB\xBF" + doc, "", doc, "utf-8", true, {}},
        decode_case{"bom_utf8_only", "\xEF\xBB\xBF", "", "", "utf-8", true, {}},
        decode_case{"bom_utf16le", "\xFF\xFE" + utf16le(decl("UTF-16") + doc), "",
                    decl("UTF-16") + doc, "utf-16le", false, {}},
        decode_case{"bom_utf16be", "\xFE\xFF" + utf16be(doc), "", doc, "utf-16be", false, {}},
        decode_case{"bom_utf32le", "\xFF\xFE\0\0"s + utf32le(doc), "", doc, "utf-32le", false,
                    {}},
        decode_case{"bom_utf32be", "\0\0\xFE\xFF"s + utf32be(doc), "", doc, "utf-32be", false,
                    {}},
        decode_case{"bom_utf16le_only", "\xFF\xFE", "", "", "utf-16le", false, {}},
        // UTF-16/32 without a BOM (XML 1.0 appendix F).
        decode_case{"utf16le_no_bom", utf16le(decl("UTF-16") + doc), "", decl("UTF-16") + doc,
                    "utf-16le", false, {}},
        decode_case{"utf16be_no_bom", utf16be(decl("utf-16") + doc), "", decl("utf-16") + doc,
                    "utf-16be", false, {}},
        decode_case{"utf16le_no_bom_no_declaration", utf16le(doc), "", doc, "utf-16le", false,
                    {}},
        decode_case{"utf32le_no_bom", utf32le(decl("UTF-32") + doc), "", decl("UTF-32") + doc,
                    "utf-32le", false, {}},
        decode_case{"utf32be_no_bom", utf32be(doc), "", doc, "utf-32be", false, {}},
        decode_case{"utf16le_odd_length", "\xFF\xFE" + utf16le("<a/>") + "A", "",
                    "<a/>\uFFFD", "utf-16le", false, {"1 invalid utf-16le sequence was"}},
        decode_case{"utf16le_lone_high_surrogate", "\xFF\xFE<\0\x00\xD8" "a\0"s, "",
                    "<\uFFFD" "a", "utf-16le", false, {"1 invalid utf-16le sequence"}},
        decode_case{"utf16be_reversed_surrogates", "\xFE\xFF\xDC\x00\xD8\x00"s, "",
                    "\uFFFD\uFFFD", "utf-16be", false, {"2 invalid utf-16be sequences were"}},
        decode_case{"utf32le_above_unicode", "\xFF\xFE\0\0" "\x00\x00\x11\x00"s, "", "\uFFFD",
                    "utf-32le", false, {"1 invalid utf-32le sequence"}},
        // Declared legacy encodings.
        decode_case{"latin1_declared", decl("ISO-8859-1") + "<t>caf\xE9</t>", "",
                    decl("ISO-8859-1") + "<t>caf\u00E9</t>", "windows-1252", false, {}},
        decode_case{"latin1_smart_quotes", decl("latin1") + "\x93hi\x94", "",
                    decl("latin1") + "\u201Chi\u201D", "windows-1252", false, {}},
        decode_case{"windows1252_declared", decl("windows-1252") + "\x93q\x94 \x80 \x81", "",
                    decl("windows-1252") + "\u201Cq\u201D \u20AC \u0081", "windows-1252", false,
                    {}},
        decode_case{"koi8r", decl("KOI8-R") + privet_koi8, "", decl("KOI8-R") + privet,
                    "koi8-r", false, {}},
        decode_case{"shift_jis", decl("Shift_JIS") + "\x93\xFA\x96\x7B\x8C\xEA\\", "",
                    decl("Shift_JIS") + "\u65E5\u672C\u8A9E\\", "shift_jis", false, {}},
        decode_case{"shift_jis_truncated", decl("sjis") + "a\x82", "", decl("sjis") + "a\uFFFD",
                    "shift_jis", false, {"1 invalid shift_jis sequence was replaced"}},
        decode_case{"euc_jp", decl("EUC-JP") + "\xC6\xFC\xCB\xDC", "",
                    decl("EUC-JP") + "\u65E5\u672C", "euc-jp", false, {}},
        decode_case{"iso_2022_jp", decl("ISO-2022-JP") + "\x1B$BF|K\\\x1B(B!", "",
                    decl("ISO-2022-JP") + "\u65E5\u672C!", "iso-2022-jp", false, {}},
        decode_case{"gb2312", decl("GB2312") + "\xD6\xD0\xCE\xC4", "",
                    decl("GB2312") + "\u4E2D\u6587", "gbk", false, {}},
        decode_case{"big5", decl("Big5") + "\xA4\xA4\xA4\xE5", "", decl("Big5") + "\u4E2D\u6587",
                    "big5", false, {}},
        decode_case{"euc_kr", decl("EUC-KR") + "\xC7\xD1\xB1\xB9", "",
                    decl("EUC-KR") + "\uD55C\uAD6D", "euc-kr", false, {}},
        decode_case{"greek", decl("ISO-8859-7") + "\xC5\xEB\xEB\xDC\xE4\xE1", "",
                    decl("ISO-8859-7") + "\u0395\u03BB\u03BB\u03AC\u03B4\u03B1", "iso-8859-7",
                    false, {}},
        decode_case{"latin5_is_windows1254", decl("ISO-8859-9") + "\xDE" "eker", "",
                    decl("ISO-8859-9") + "\u015Eeker", "windows-1254", false, {}},
        decode_case{"mac_roman", decl("x-mac-roman") + "caf\x8E", "",
                    decl("x-mac-roman") + "caf\u00E9", "macintosh", false, {}},
        decode_case{"legacy_but_all_ascii", decl("KOI8-R") + "<a/>", "", decl("KOI8-R") + "<a/>",
                    "koi8-r", true, {}},
        decode_case{"declaration_after_blank_line", "\n" + decl("iso-8859-1") + "\xE9", "",
                    "\n" + decl("iso-8859-1") + "\u00E9", "windows-1252", false, {}},
        decode_case{"declaration_single_quotes",
                    "<?xml version = '1.0'  encoding = 'koi8-r' standalone='yes'?>" + privet_koi8,
                    "", "<?xml version = '1.0'  encoding = 'koi8-r' standalone='yes'?>" + privet,
                    "koi8-r", false, {}},
        decode_case{"declaration_truncated", "<?xml version=\"1.0\" encoding=\"iso-8859-", "",
                    "<?xml version=\"1.0\" encoding=\"iso-8859-", "utf-8", true, {}},
        decode_case{"declaration_without_encoding", "<?xml version=\"1.0\"?>\xE9", "",
                    "<?xml version=\"1.0\"?>\u00E9", "windows-1252", false,
                    {"1 byte was not valid utf-8; read as windows-1252"}},
        // Transport charset (Content-Type).
        decode_case{"transport_overrides_declaration", decl("ISO-8859-1") + privet_koi8, "koi8-r",
                    decl("ISO-8859-1") + privet, "koi8-r", false, {}},
        decode_case{"transport_quoted_and_padded", privet_koi8, " \"KOI8-R\" ", privet, "koi8-r",
                    false, {}},
        decode_case{"transport_latin1", "<t>\xE9</t>", "iso-8859-1", "<t>\u00E9</t>",
                    "windows-1252", false, {}},
        decode_case{"transport_windows1251", "<t>" + privet_1251 + "</t>", "windows-1251",
                    "<t>" + privet + "</t>", "windows-1251", false, {}},
        decode_case{"transport_utf8_beats_declaration", decl("iso-8859-1") + "\u00E9", "utf-8",
                    decl("iso-8859-1") + "\u00E9", "utf-8", true, {}},
        decode_case{"transport_latin1_but_valid_utf8", "<t>\u00E9</t>", "ISO-8859-1",
                    "<t>\u00E9</t>", "utf-8", true,
                    {"transport charset 'ISO-8859-1' ignored: the document is valid utf-8"}},
        decode_case{"transport_contradicted_by_declaration_and_bytes", decl("utf-8") + privet,
                    "windows-1251", decl("utf-8") + privet, "utf-8", true,
                    {"transport charset 'windows-1251' ignored: the document declares utf-8"}},
        decode_case{"transport_unknown", decl("KOI8-R") + privet_koi8, "x-bogus",
                    decl("KOI8-R") + privet, "koi8-r", false,
                    {"transport charset 'x-bogus' is unknown; ignored"}},
        decode_case{"transport_utf16_but_ascii", "<a>\u00E9</a>", "utf-16", "<a>\u00E9</a>",
                    "utf-8", true, {"transport charset 'utf-16' ignored: the document has no"}},
        decode_case{"transport_ebcdic", "\x4C\x81\x61\x6E", "IBM037", "<a/>", "ibm037", false,
                    {}},
        decode_case{"transport_ebcdic_but_ascii_declaration", decl("utf-8") + "<a/>", "IBM037",
                    decl("utf-8") + "<a/>", "utf-8", true,
                    {"transport charset 'IBM037' ignored: the document starts with an ASCII"}},
        decode_case{"transport_vs_bom", "\xFF\xFE" + utf16le("<a/>"), "iso-8859-1", "<a/>",
                    "utf-16le", false,
                    {"transport charset 'iso-8859-1' ignored: the byte-order mark says utf-16le"}},
        decode_case{"transport_agrees_with_bom", "\xFE\xFF" + utf16be("<a/>"), "UTF-16", "<a/>",
                    "utf-16be", false, {}},
        decode_case{"transport_vs_utf16_bytes", utf16le("<a/>"), "utf-8", "<a/>", "utf-16le",
                    false, {"transport charset 'utf-8' ignored: the document is utf-16le"}},
        // Declarations that cannot be right.
        decode_case{"declared_unknown", decl("foo") + "<a/>", "", decl("foo") + "<a/>", "utf-8",
                    true, {"declared encoding 'foo' is unknown; read as utf-8"}},
        decode_case{"declared_unknown_and_not_utf8", decl("foo") + "caf\xE9", "",
                    decl("foo") + "caf\u00E9", "windows-1252", false,
                    {"declared encoding 'foo' is unknown",
                     "1 byte was not valid utf-8; read as windows-1252"}},
        decode_case{"declared_unprintable", decl("\x01\xFF") + "<a/>", "",
                    decl("\x01\u00FF") + "<a/>", "windows-1252", false,
                    {"declared encoding '?" "?' is unknown",  // split: "??'" is a trigraph
                     "1 byte was not valid utf-8; read as windows-1252"}},
        decode_case{"declared_utf16_but_ascii", decl("UTF-16") + "<a/>", "",
                    decl("UTF-16") + "<a/>", "utf-8", true,
                    {"declared encoding 'UTF-16' ignored: the document has no byte-order mark"}},
        decode_case{"declared_ebcdic_in_ascii", decl("IBM037") + "<a/>", "",
                    decl("IBM037") + "<a/>", "utf-8", true,
                    {"declared encoding 'IBM037' cannot be true of an ASCII declaration"}},
        decode_case{"declared_utf7_refused", decl("UTF-7") + "+ADw-a/+AD4-", "",
                    decl("UTF-7") + "+ADw-a/+AD4-", "utf-8", true,
                    {"declared encoding 'UTF-7' is unknown"}},
        decode_case{"declared_us_ascii", decl("us-ascii") + "<a/>", "", decl("us-ascii") + "<a/>",
                    "windows-1252", true, {}},
        decode_case{"declared_us_ascii_but_latin1", decl("US-ASCII") + "caf\xE9", "",
                    decl("US-ASCII") + "caf\u00E9", "windows-1252", false,
                    {"declared encoding 'US-ASCII' is wrong: the document is not ASCII"}},
        decode_case{"declared_us_ascii_but_utf8", decl("us-ascii") + "\u00E9", "",
                    decl("us-ascii") + "\u00E9", "utf-8", true,
                    {"declared encoding 'us-ascii' ignored: the document is valid utf-8"}},
        decode_case{"declared_latin1_after_bom", "\xEF\xBB\xBF" + decl("iso-8859-1") + "\u00E9",
                    "", decl("iso-8859-1") + "\u00E9", "utf-8", true,
                    {"declared encoding 'iso-8859-1' ignored: the byte-order mark says utf-8"}},
        decode_case{"declared_latin1_in_utf16", utf16le(decl("iso-8859-1") + "<a/>"), "",
                    decl("iso-8859-1") + "<a/>", "utf-16le", false,
                    {"declared encoding 'iso-8859-1' ignored: the document is utf-16le"}},
        // Invalid UTF-8.
        decode_case{"invalid_utf8_is_windows1252", "<t>caf\xE9 \x93q\x94</t>", "",
                    "<t>caf\u00E9 \u201Cq\u201D</t>", "windows-1252", false,
                    {"3 bytes were not valid utf-8; read as windows-1252"}},
        decode_case{"invalid_declared_utf8", decl("utf-8") + "\xE9", "",
                    decl("utf-8") + "\u00E9", "windows-1252", false,
                    {"1 byte was not valid utf-8; read as windows-1252"}},
        decode_case{"damaged_utf8_is_repaired", "\u00E9 \u00E9 \u00E9 \xFF", "",
                    "\u00E9 \u00E9 \u00E9 \uFFFD", "utf-8", false,
                    {"1 byte was not valid utf-8 and replaced with U+FFFD"}},
        decode_case{"damaged_utf8_after_bom", "\xEF\xBB\xBF" "caf\xE9", "", "caf\uFFFD", "utf-8",
                    false, {"1 byte was not valid utf-8 and replaced with U+FFFD"}}),
    [](const testing::TestParamInfo<decode_case>& info) { return info.param.name; });

class json_decode : public testing::TestWithParam<decode_case> {};

TEST_P(json_decode, charset_text_and_problems) {
  const decode_case& c = GetParam();
  check(c, decode_json_bytes(c.bytes));
}

const std::string json = "{\"t\":\"caf\u00E9 \U0001F600\"}";

INSTANTIATE_TEST_SUITE_P(
    table, json_decode,
    testing::Values(
        decode_case{"empty", "", "", "", "utf-8", true, {}},
        decode_case{"one_byte", "1", "", "1", "utf-8", true, {}},
        decode_case{"utf8", json, "", json, "utf-8", true, {}},
        decode_case{"utf8_bom", "\xEF\xBB\xBF" + json, "", json, "utf-8", true, {}},
        decode_case{"utf16le_bom", "\xFF\xFE" + utf16le(json), "", json, "utf-16le", false,
                    {"JSON must be utf-8 (RFC 8259); read as utf-16le"}},
        decode_case{"utf32be_bom", "\0\0\xFE\xFF"s + utf32be(json), "", json, "utf-32be", false,
                    {"read as utf-32be"}},
        decode_case{"utf16le_no_bom", utf16le(json), "", json, "utf-16le", false,
                    {"read as utf-16le"}},
        decode_case{"utf16be_no_bom", utf16be(json), "", json, "utf-16be", false,
                    {"read as utf-16be"}},
        decode_case{"utf32le_no_bom", utf32le(json), "", json, "utf-32le", false,
                    {"read as utf-32le"}},
        decode_case{"utf32be_no_bom", utf32be(json), "", json, "utf-32be", false,
                    {"read as utf-32be"}},
        decode_case{"utf16le_two_bytes", "1\0"s, "", "1", "utf-16le", false,
                    {"read as utf-16le"}},
        decode_case{"invalid_utf8", "{\"t\":\"caf\xE9\"}", "", "{\"t\":\"caf\u00E9\"}",
                    "windows-1252", false, {"1 byte was not valid utf-8; read as windows-1252"}},
        decode_case{"damaged_utf8", "[\"\u00E9\u00E9\", \"\xC3\"]", "",
                    "[\"\u00E9\u00E9\", \"\uFFFD\"]", "utf-8", false,
                    {"1 byte was not valid utf-8 and replaced"}}),
    [](const testing::TestParamInfo<decode_case>& info) { return info.param.name; });

TEST(decoded_text, unchanged_view_skips_bom) {
  const std::string bytes = "\xEF\xBB\xBF<a/>";
  const decoded_text r = decode_xml_bytes(bytes, "");
  EXPECT_TRUE(r.unchanged);
  EXPECT_EQ(r.skipped, 3u);
  EXPECT_EQ(r.text(bytes), "<a/>");
  EXPECT_EQ(r.text(bytes).data(), bytes.data() + 3) << "a view into the input, not a copy";
}

TEST(canonical_charset, labels) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"utf-8", "utf-8"},
      {"UTF8", "utf-8"},
      {"UTF_8", "utf-8"},
      {" \"utf-8\" ", "utf-8"},
      {"'Utf-8'", "utf-8"},
      {"utf-16", "utf-16"},
      {"UCS-2", "utf-16"},
      {"utf-16le", "utf-16le"},
      {"UTF-32BE", "utf-32be"},
      {"iso-8859-1", "windows-1252"},
      {"ISO_8859-1:1987", "windows-1252"},
      {"latin1", "windows-1252"},
      {"us-ascii", "windows-1252"},
      {"ANSI_X3.4-1968", "windows-1252"},
      {"cp1252", "windows-1252"},
      {"windows-1251", "windows-1251"},
      {"win1250", "windows-1250"},
      {"cp1258", "windows-1258"},
      {"iso8859-15", "iso-8859-15"},
      {"ISO-8859-2", "iso-8859-2"},
      {"ISO-8859-9", "windows-1254"},
      {"iso-8859-11", "windows-874"},
      {"l2", "iso-8859-2"},
      {"latin9", "iso-8859-15"},
      {"koi8r", "koi8-r"},
      {"KOI8-U", "koi8-u"},
      {"x-mac-roman", "macintosh"},
      {"SJIS", "shift_jis"},
      {"Windows-31J", "shift_jis"},
      {"EUC-JP", "euc-jp"},
      {"gb2312", "gbk"},
      {"GB18030", "gb18030"},
      {"big5-hkscs", "big5"},
      {"ks_c_5601-1987", "euc-kr"},
      {"IBM037", "ibm037"},  // not in our table; glibc knows it
      {"EBCDIC-US", "ebcdic-us"},
      {"utf-7", ""},
      {"UTF-7-IMAP", ""},
      {"hz-gb-2312", ""},
      {"iso-8859-12", ""},
      {"windows-1259", ""},
      {"latin11", ""},
      {"bogus", ""},
      {"", ""},
      {"   ", ""},
      {"\"\"", ""},
      {"../../etc/passwd", ""},
      {"UTF-8//IGNORE", ""},
      {"a\0b"sv, ""},
  };
  for (const auto& [label, want] : cases) {
    EXPECT_EQ(canonical_charset(label), want) << '"' << label << '"';
  }
  EXPECT_EQ(canonical_charset(std::string(200, 'a')), "");
}

// Arbitrary bytes around the interesting prefixes: nothing may crash (run under ASan/UBSan),
// and whatever comes out must be valid UTF-8.
TEST(decode, random_bytes_are_safe) {
  std::mt19937 rng(4242);
  const std::string_view fragments[] = {
      "\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF", "\0\0"sv, "\0"sv, "<?xml ", "encoding=\"",
      "\"", "'", "?>", "koi8-r", "utf-16", "shift_jis", "iso-2022-jp", "<", "a",
      "\x1B$B", "\x82", "\xE9", "\xC3\xA9", "\xD8", "\xDC", " "};
  const std::string_view transports[] = {"", "", "utf-8", "utf-16", "koi8-r", "shift_jis",
                                         "iso-2022-jp", "ibm037", "bogus", "us-ascii"};
  for (int round = 0; round < 1500; ++round) {
    std::string bytes;
    const int parts = static_cast<int>(rng() % 16);
    for (int i = 0; i < parts; ++i) bytes += fragments[rng() % std::size(fragments)];
    const std::string_view transport = transports[rng() % std::size(transports)];
    const decoded_text x = decode_xml_bytes(bytes, transport);
    EXPECT_TRUE(is_valid_utf8(x.text(bytes))) << x.charset;
    EXPECT_FALSE(x.charset.empty());
    if (x.unchanged) {
      EXPECT_LE(x.skipped, bytes.size());
    }
    const decoded_text j = decode_json_bytes(bytes);
    EXPECT_TRUE(is_valid_utf8(j.text(bytes))) << j.charset;
  }
}

}  // namespace
}  // namespace syndic::formats::detail
