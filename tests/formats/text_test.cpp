// Tests for text.hpp: entity decoding, escaping and UTF-8 handling. Inputs are built from
// escape sequences so that every byte under test is visible here.

#include "text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats::detail {
namespace {

using namespace std::string_view_literals;
constexpr std::size_t npos = std::string_view::npos;

std::string utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

std::string decode(std::string_view raw, entity_stats* stats = nullptr,
                   entity_set set = entity_set::html) {
  std::string out;
  decode_entities(raw, out, stats, set);
  return out;
}

// ---------------------------------------------------------------------------------------------
// decode_entities

struct entity_case {
  const char* name;
  std::string_view raw;
  std::string_view expected;
  std::size_t html_named = 0, unknown = 0, bare = 0, bad_numeric = 0;
  std::size_t first_problem = npos;
};

void PrintTo(const entity_case& c, std::ostream* os) { *os << c.name; }

class decode_html : public testing::TestWithParam<entity_case> {};

TEST_P(decode_html, decodes_and_counts) {
  const entity_case& c = GetParam();
  entity_stats stats;
  const std::string prefix = "kept:";
  std::string out = prefix;
  decode_entities(c.raw, out, &stats);
  EXPECT_EQ(out.substr(0, prefix.size()), prefix) << "appends, does not overwrite";
  EXPECT_EQ(out.substr(prefix.size()), c.expected);
  EXPECT_EQ(stats.html_named, c.html_named);
  EXPECT_EQ(stats.unknown, c.unknown);
  EXPECT_EQ(stats.bare_ampersands, c.bare);
  EXPECT_EQ(stats.bad_numeric, c.bad_numeric);
  EXPECT_EQ(stats.first_problem, c.first_problem);
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_EQ(decode(c.raw), c.expected) << "same without stats";
}

INSTANTIATE_TEST_SUITE_P(
    table, decode_html,
    testing::Values(
        entity_case{"empty", "", ""},
        entity_case{"no_ampersand", "plain text <b>", "plain text <b>"},
        entity_case{"xml_five", "a &amp; b &lt;&gt; &quot;&apos;", "a & b <> \"'"},
        entity_case{"adjacent", "&lt;&lt;&amp;&amp;", "<<&&"},
        entity_case{"brief_example",
                    "a &amp; b &nbsp; &eacute; & c &#233; &#x1F600; &bogus;",
                    "a & b \u00A0 \u00E9 & c \u00E9 \U0001F600 &bogus;", 2, 1, 1, 0, 10},
        entity_case{"nbsp", "a&nbsp;b", "a\u00A0b", 1, 0, 0, 0, 1},
        entity_case{"html4_typography", "&hellip;&mdash;&ndash;&lsquo;&rsquo;&ldquo;&rdquo;",
                    "\u2026\u2014\u2013\u2018\u2019\u201C\u201D", 7, 0, 0, 0, 0},
        entity_case{"html4_symbols", "&euro;&trade;&hearts;&alpha;&Omega;&infin;",
                    "\u20AC\u2122\u2665\u03B1\u03A9\u221E", 6, 0, 0, 0, 0},
        entity_case{"case_sensitive", "&Eacute;&eacute;", "\u00C9\u00E9", 2, 0, 0, 0, 0},
        entity_case{"wrong_case_unknown", "&EACUTE;", "&EACUTE;", 0, 1, 0, 0, 0},
        entity_case{"html5_astral", "&Afr;&zopf;", "\U0001D504\U0001D56B", 2, 0, 0, 0, 0},
        entity_case{"html5_two_code_points", "&NotEqualTilde;&ThickSpace;",
                    "\u2242\u0338\u205F\u200A", 2, 0, 0, 0, 0},
        entity_case{"longest_name", "&CounterClockwiseContourIntegral;", "\u2233", 1, 0, 0, 0,
                    0},
        entity_case{"html5_uppercase_amp", "&AMP;&LT;", "&<", 2, 0, 0, 0, 0},
        entity_case{"legacy_no_semicolon", "&copy 2024", "\u00A9 2024", 1, 0, 0, 0, 0},
        entity_case{"legacy_at_end", "x &amp", "x &", 1, 0, 0, 0, 2},
        entity_case{"legacy_nbsp", "a&nbsp b", "a\u00A0 b", 1, 0, 0, 0, 1},
        entity_case{"legacy_then_equals", "?a=1&copy=2", "?a=1&copy=2", 0, 0, 1, 0, 4},
        entity_case{"legacy_then_alnum", "&copy2024", "&copy2024", 0, 0, 1, 0, 0},
        entity_case{"not_legacy_no_semicolon", "&hellip more", "&hellip more", 0, 0, 1, 0, 0},
        entity_case{"legacy_prefix_unknown", "&notit;", "&notit;", 0, 1, 0, 0, 0},
        entity_case{"unknown", "x &bogus; y", "x &bogus; y", 0, 1, 0, 0, 2},
        entity_case{"too_long_name", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
                    "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", 0, 1, 0, 0, 0},
        entity_case{"bare_space", "a & b", "a & b", 0, 0, 1, 0, 2},
        entity_case{"bare_word", "AT&T", "AT&T", 0, 0, 1, 0, 2},
        entity_case{"bare_at_end", "a&", "a&", 0, 0, 1, 0, 1},
        entity_case{"bare_semicolon", "&;", "&;", 0, 0, 1, 0, 0},
        entity_case{"bare_double", "&&amp;", "&&", 0, 0, 1, 0, 0},
        entity_case{"bare_punctuated_name", "&foo-bar;", "&foo-bar;", 0, 0, 1, 0, 0},
        entity_case{"bare_hash", "&#;", "&#;", 0, 0, 1, 0, 0},
        entity_case{"bare_hash_x", "&#x;", "&#x;", 0, 0, 1, 0, 0},
        entity_case{"bare_hash_x_junk", "&#xG1;", "&#xG1;", 0, 0, 1, 0, 0},
        entity_case{"bare_hash_at_end", "&#", "&#", 0, 0, 1, 0, 0},
        entity_case{"decimal", "&#233;&#65;", "\u00E9A"},
        entity_case{"hex_lower_upper", "&#xe9;&#xE9;&#XE9;", "\u00E9\u00E9\u00E9"},
        entity_case{"leading_zeros", "&#0000000000065;&#x0000041;", "AA"},
        entity_case{"astral_hex", "&#x1F600;", "\U0001F600"},
        entity_case{"max_code_point", "&#x10FFFF;", "\U0010FFFF"},
        entity_case{"whitespace_refs", "&#9;&#10;&#13;&#x20;", "\t\n\r "},
        entity_case{"zero", "&#0;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"surrogate_high", "&#xD800;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"surrogate_low", "&#57343;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"above_unicode", "&#x110000;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"overflow_decimal", "&#99999999999;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"overflow_hex", "&#xFFFFFFFFFFFFFFFFFFFF41;", "\uFFFD", 0, 0, 0, 1, 0},
        entity_case{"xml_forbidden_control", "&#1;&#x1F;", "\uFFFD\uFFFD", 0, 0, 0, 2, 0},
        entity_case{"noncharacters", "&#xFFFE;&#xFFFF;", "\uFFFD\uFFFD", 0, 0, 0, 2, 0},
        entity_case{"c1_as_windows_1252", "&#150;&#x93;&#128;", "\u2013\u201C\u20AC", 0, 0, 0,
                    3, 0},
        entity_case{"c1_undefined_in_1252", "&#x81;", "\u0081", 0, 0, 0, 1, 0},
        entity_case{"numeric_no_semicolon", "caf&#233 ok", "caf\u00E9 ok", 0, 0, 0, 1, 3},
        entity_case{"numeric_at_end", "&#x41", "A", 0, 0, 0, 1, 0},
        entity_case{"del_is_fine", "&#127;&#xA0;", "\u007F\u00A0"},
        entity_case{"non_ascii_passes", "caf\u00E9 &amp; \U0001F600", "caf\u00E9 & \U0001F600"},
        entity_case{"first_problem_is_first", "&amp; x &bogus; & &nbsp;",
                    "& x &bogus; & \u00A0", 1, 1, 1, 0, 8}),
    [](const testing::TestParamInfo<entity_case>& info) { return std::string(info.param.name); });

class decode_xml_only : public testing::TestWithParam<entity_case> {};

TEST_P(decode_xml_only, decodes_and_counts) {
  const entity_case& c = GetParam();
  entity_stats stats;
  EXPECT_EQ(decode(c.raw, &stats, entity_set::xml), c.expected);
  EXPECT_EQ(stats.html_named, c.html_named);
  EXPECT_EQ(stats.unknown, c.unknown);
  EXPECT_EQ(stats.bare_ampersands, c.bare);
  EXPECT_EQ(stats.bad_numeric, c.bad_numeric);
  EXPECT_EQ(stats.first_problem, c.first_problem);
}

INSTANTIATE_TEST_SUITE_P(
    table, decode_xml_only,
    testing::Values(entity_case{"xml_five", "&amp;&lt;&gt;&quot;&apos;", "&<>\"'"},
                    entity_case{"html_name_unknown", "a&nbsp;b", "a&nbsp;b", 0, 1, 0, 0, 1},
                    entity_case{"legacy_is_bare", "&copy 2024", "&copy 2024", 0, 0, 1, 0, 0},
                    entity_case{"numeric", "&#233;&#x1F600;", "\u00E9\U0001F600"},
                    entity_case{"c1_kept", "&#150;", "\u0096"},
                    entity_case{"no_semicolon_is_bare", "&#233 x", "&#233 x", 0, 0, 1, 0, 0},
                    entity_case{"zero", "&#0;", "\uFFFD", 0, 0, 0, 1, 0}),
    [](const testing::TestParamInfo<entity_case>& info) { return std::string(info.param.name); });

// Every HTML 4 entity (Python's html.entities.name2codepoint), as name:hex code point.
constexpr std::string_view html4_entities =
    "AElig:C6 Aacute:C1 Acirc:C2 Agrave:C0 Alpha:391 Aring:C5 Atilde:C3 Auml:C4 Beta:392 "
    "Ccedil:C7 Chi:3A7 Dagger:2021 Delta:394 ETH:D0 Eacute:C9 Ecirc:CA Egrave:C8 Epsilon:395 "
    "Eta:397 Euml:CB Gamma:393 Iacute:CD Icirc:CE Igrave:CC Iota:399 Iuml:CF Kappa:39A Lambda:39B "
    "Mu:39C Ntilde:D1 Nu:39D OElig:152 Oacute:D3 Ocirc:D4 Ograve:D2 Omega:3A9 Omicron:39F "
    "Oslash:D8 Otilde:D5 Ouml:D6 Phi:3A6 Pi:3A0 Prime:2033 Psi:3A8 Rho:3A1 Scaron:160 Sigma:3A3 "
    "THORN:DE Tau:3A4 Theta:398 Uacute:DA Ucirc:DB Ugrave:D9 Upsilon:3A5 Uuml:DC Xi:39E Yacute:DD "
    "Yuml:178 Zeta:396 aacute:E1 acirc:E2 acute:B4 aelig:E6 agrave:E0 alefsym:2135 alpha:3B1 "
    "amp:26 and:2227 ang:2220 aring:E5 asymp:2248 atilde:E3 auml:E4 bdquo:201E beta:3B2 brvbar:A6 "
    "bull:2022 cap:2229 ccedil:E7 cedil:B8 cent:A2 chi:3C7 circ:2C6 clubs:2663 cong:2245 copy:A9 "
    "crarr:21B5 cup:222A curren:A4 dArr:21D3 dagger:2020 darr:2193 deg:B0 delta:3B4 diams:2666 "
    "divide:F7 eacute:E9 ecirc:EA egrave:E8 empty:2205 emsp:2003 ensp:2002 epsilon:3B5 equiv:2261 "
    "eta:3B7 eth:F0 euml:EB euro:20AC exist:2203 fnof:192 forall:2200 frac12:BD frac14:BC "
    "frac34:BE frasl:2044 gamma:3B3 ge:2265 gt:3E hArr:21D4 harr:2194 hearts:2665 hellip:2026 "
    "iacute:ED icirc:EE iexcl:A1 igrave:EC image:2111 infin:221E int:222B iota:3B9 iquest:BF "
    "isin:2208 iuml:EF kappa:3BA lArr:21D0 lambda:3BB lang:2329 laquo:AB larr:2190 lceil:2308 "
    "ldquo:201C le:2264 lfloor:230A lowast:2217 loz:25CA lrm:200E lsaquo:2039 lsquo:2018 lt:3C "
    "macr:AF mdash:2014 micro:B5 middot:B7 minus:2212 mu:3BC nabla:2207 nbsp:A0 ndash:2013 "
    "ne:2260 ni:220B not:AC notin:2209 nsub:2284 ntilde:F1 nu:3BD oacute:F3 ocirc:F4 oelig:153 "
    "ograve:F2 oline:203E omega:3C9 omicron:3BF oplus:2295 or:2228 ordf:AA ordm:BA oslash:F8 "
    "otilde:F5 otimes:2297 ouml:F6 para:B6 part:2202 permil:2030 perp:22A5 phi:3C6 pi:3C0 piv:3D6 "
    "plusmn:B1 pound:A3 prime:2032 prod:220F prop:221D psi:3C8 quot:22 rArr:21D2 radic:221A "
    "rang:232A raquo:BB rarr:2192 rceil:2309 rdquo:201D real:211C reg:AE rfloor:230B rho:3C1 "
    "rlm:200F rsaquo:203A rsquo:2019 sbquo:201A scaron:161 sdot:22C5 sect:A7 shy:AD sigma:3C3 "
    "sigmaf:3C2 sim:223C spades:2660 sub:2282 sube:2286 sum:2211 sup:2283 sup1:B9 sup2:B2 sup3:B3 "
    "supe:2287 szlig:DF tau:3C4 there4:2234 theta:3B8 thetasym:3D1 thinsp:2009 thorn:FE tilde:2DC "
    "times:D7 trade:2122 uArr:21D1 uacute:FA uarr:2191 ucirc:FB ugrave:F9 uml:A8 upsih:3D2 "
    "upsilon:3C5 uuml:FC weierp:2118 xi:3BE yacute:FD yen:A5 yuml:FF zeta:3B6 zwj:200D zwnj:200C "
    ""sv;

TEST(decode_entities, complete_html4_set) {
  std::istringstream in{std::string(html4_entities)};
  std::string item;
  std::size_t count = 0;
  while (in >> item) {
    const std::size_t colon = item.find(':');
    ASSERT_NE(colon, std::string::npos) << item;
    const std::string name = item.substr(0, colon);
    auto cp = static_cast<char32_t>(std::stoul(item.substr(colon + 1), nullptr, 16));
    // HTML5 moved these two from the deprecated CJK brackets to the mathematical ones.
    if (name == "lang") cp = U'\u27E8';
    if (name == "rang") cp = U'\u27E9';
    EXPECT_EQ(lookup_html_entity(name), utf8(cp)) << name;
    entity_stats stats;
    EXPECT_EQ(decode("&" + name + ";", &stats), utf8(cp)) << name;
    const bool xml_name =
        name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
    EXPECT_EQ(stats.html_named, xml_name ? 0u : 1u) << name;
    ++count;
  }
  EXPECT_EQ(count, 252u);
}

TEST(decode_entities, stats_accumulate_across_calls) {
  entity_stats stats;
  std::string out;
  decode_entities("ok &nbsp;", out, &stats);
  decode_entities("&bogus; &nbsp;", out, &stats);
  EXPECT_EQ(stats.html_named, 2u);
  EXPECT_EQ(stats.unknown, 1u);
  EXPECT_EQ(stats.first_problem, 3u) << "kept from the first call";
  EXPECT_EQ(out, "ok \u00A0&bogus; \u00A0");
}

// The same unknown name again skips the lookup: every occurrence is still counted and kept,
// and known names between them still decode (xml set: &nbsp; unknown there, &amp; known).
TEST(decode_entities, repeated_unknown_names) {
  entity_stats stats;
  std::string out;
  decode_entities("&e;&e;&amp;&e;&nbsp;&e;&nbsp;&e", out, &stats);
  EXPECT_EQ(out, "&e;&e;&&e;\u00A0&e;\u00A0&e");
  EXPECT_EQ(stats.unknown, 4u);
  EXPECT_EQ(stats.html_named, 2u);
  EXPECT_EQ(stats.bare_ampersands, 1u);
  entity_stats xs;
  std::string xout;
  decode_entities("&nbsp;&nbsp;&amp;&nbsp;", xout, &xs, entity_set::xml);
  EXPECT_EQ(xout, "&nbsp;&nbsp;&&nbsp;");
  EXPECT_EQ(xs.unknown, 3u);
}

TEST(decode_entities, embedded_nul_is_copied) {
  EXPECT_EQ(decode("a\0&amp;\0b"sv), "a\0&\0b"sv);
}

TEST(lookup_html_entity, edges) {
  EXPECT_EQ(lookup_html_entity("amp"), "&");
  EXPECT_EQ(lookup_html_entity("nbsp"), "\u00A0");
  EXPECT_EQ(lookup_html_entity("zwnj"), "\u200C");
  EXPECT_EQ(lookup_html_entity("AElig"), "\u00C6") << "first in the table";
  EXPECT_EQ(lookup_html_entity("zwj"), "\u200D") << "last in the table";
  EXPECT_EQ(lookup_html_entity(""), "");
  EXPECT_EQ(lookup_html_entity("nbsp;"), "");
  EXPECT_EQ(lookup_html_entity("&nbsp"), "");
  EXPECT_EQ(lookup_html_entity("NBSP"), "");
  EXPECT_EQ(lookup_html_entity(std::string(1000, 'a')), "");
  EXPECT_EQ(lookup_legacy_html_entity("copy"), "\u00A9");
  EXPECT_EQ(lookup_legacy_html_entity("AMP"), "&");
  EXPECT_EQ(lookup_legacy_html_entity("hellip"), "");
  EXPECT_EQ(lookup_legacy_html_entity("bogus"), "");
}

// ---------------------------------------------------------------------------------------------
// trim, append_utf8, windows_1252_code_point

TEST(trim, table) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},
      {"   ", ""},
      {" \t\r\n", ""},
      {"a", "a"},
      {"  a b \t\r\n", "a b"},
      {"\n\nx", "x"},
      {"x\n\n", "x"},
      {"\u00A0a\u00A0", "\u00A0a\u00A0"},  // NBSP is content
      {"\fa\v", "\fa\v"},                  // not XML whitespace
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(trim(in), want) << '"' << in << '"';
}

TEST(append_utf8, boundaries) {
  const std::pair<char32_t, std::string_view> cases[] = {
      {0x00, "\0"sv},
      {0x41, "A"},
      {0x7F, "\x7F"},
      {0x80, "\xC2\x80"},
      {0x7FF, "\xDF\xBF"},
      {0x800, "\xE0\xA0\x80"},
      {0xD7FF, "\xED\x9F\xBF"},
      {0xD800, "\xEF\xBF\xBD"},
      {0xDFFF, "\xEF\xBF\xBD"},
      {0xE000, "\xEE\x80\x80"},
      {0xFFFF, "\xEF\xBF\xBF"},
      {0x10000, "\xF0\x90\x80\x80"},
      {0x10FFFF, "\xF4\x8F\xBF\xBF"},
      {0x110000, "\xEF\xBF\xBD"},
      {0xFFFFFFFF, "\xEF\xBF\xBD"},
  };
  for (const auto& [cp, want] : cases) {
    EXPECT_EQ(utf8(cp), want) << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(windows_1252_code_point, table) {
  EXPECT_EQ(windows_1252_code_point(0x41), U'A');
  EXPECT_EQ(windows_1252_code_point(0x80), U'\u20AC');
  EXPECT_EQ(windows_1252_code_point(0x93), U'\u201C');
  EXPECT_EQ(windows_1252_code_point(0x94), U'\u201D');
  EXPECT_EQ(windows_1252_code_point(0x9F), U'\u0178');
  EXPECT_EQ(windows_1252_code_point(0x81), U'\u0081');
  EXPECT_EQ(windows_1252_code_point(0xA0), U'\u00A0');
  EXPECT_EQ(windows_1252_code_point(0xE9), U'\u00E9');
  EXPECT_EQ(windows_1252_code_point(0xFF), U'\u00FF');
}

// ---------------------------------------------------------------------------------------------
// Escaping

struct escape_case {
  const char* name;
  std::string_view in;
  std::string_view text;  // append_xml_escaped
  std::string_view attr;  // append_xml_attr_escaped
};

void PrintTo(const escape_case& c, std::ostream* os) { *os << c.name; }

class xml_escape : public testing::TestWithParam<escape_case> {};

TEST_P(xml_escape, text_and_attribute) {
  const escape_case& c = GetParam();
  std::string text = "<";
  append_xml_escaped(text, c.in);
  EXPECT_EQ(text.substr(1), c.text);
  std::string attr = "<";
  append_xml_attr_escaped(attr, c.in);
  EXPECT_EQ(attr.substr(1), c.attr);
}

INSTANTIATE_TEST_SUITE_P(
    table, xml_escape,
    testing::Values(
        escape_case{"empty", "", "", ""},
        escape_case{"plain", "plain text", "plain text", "plain text"},
        escape_case{"markup", "a & b < c > d", "a &amp; b &lt; c &gt; d",
                    "a &amp; b &lt; c &gt; d"},
        escape_case{"quotes", "\"it's\"", "\"it's\"", "&quot;it's&quot;"},
        escape_case{"already_escaped", "&amp;", "&amp;amp;", "&amp;amp;"},
        escape_case{"whitespace", "a\tb\nc\rd", "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d"},
        escape_case{"c0_controls_dropped", "a\x01" "b\x08" "c\x0B" "d\x0C" "e\x1F" "f",
                    "abcdef", "abcdef"},
        escape_case{"nul_dropped", "a\0b"sv, "ab", "ab"},
        escape_case{"del_and_c1_kept", "\x7F\xC2\x80\xC2\x9F", "\x7F\xC2\x80\xC2\x9F",
                    "\x7F\xC2\x80\xC2\x9F"},
        escape_case{"noncharacters_dropped", "a\xEF\xBF\xBE" "b\xEF\xBF\xBF" "c", "abc", "abc"},
        escape_case{"other_ef_kept", "\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xBC\x81",
                    "\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xBC\x81", "\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xBC\x81"},
        escape_case{"truncated_ef_at_end", "a\xEF\xBF", "a\xEF\xBF", "a\xEF\xBF"},
        escape_case{"lone_ef_at_end", "a\xEF", "a\xEF", "a\xEF"},
        escape_case{"non_ascii", "caf\u00E9 \U0001F600", "caf\u00E9 \U0001F600",
                    "caf\u00E9 \U0001F600"},
        escape_case{"escape_at_both_ends", "<0123456789abcdefghij>",
                    "&lt;0123456789abcdefghij&gt;", "&lt;0123456789abcdefghij&gt;"}),
    [](const testing::TestParamInfo<escape_case>& info) { return std::string(info.param.name); });

TEST(xml_escape, long_runs) {
  const std::string run(10000, 'x');
  const std::string in = run + "&" + run + "\x01" + run;
  std::string out;
  append_xml_escaped(out, in);
  EXPECT_EQ(out, run + "&amp;" + run + run);
}

TEST(json_escape, table) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},
      {"plain", "plain"},
      {"\"q\"", "\\\"q\\\""},
      {"back\\slash", "back\\\\slash"},
      {"\n\t\r\b\f", "\\n\\t\\r\\b\\f"},
      {"\0"sv, "\\u0000"},
      {"\x01\x1F", "\\u0001\\u001f"},
      {"\x0B", "\\u000b"},
      {"\x7F", "\x7F"},
      {"a/b", "a/b"},
      {"<script>&", "<script>&"},
      {"caf\u00E9 \U0001F600 \u2028", "caf\u00E9 \U0001F600 \u2028"},
      {"x\"", "x\\\""},
  };
  for (const auto& [in, want] : cases) {
    std::string out = "[";
    append_json_escaped(out, in);
    EXPECT_EQ(out, "[" + std::string(want)) << '"' << in << '"';
  }
}

// ---------------------------------------------------------------------------------------------
// UTF-8

struct utf8_case {
  const char* name;
  std::string_view in;
  std::string_view repaired;  // equal to `in` when valid
  std::size_t replacements;
};

void PrintTo(const utf8_case& c, std::ostream* os) { *os << c.name; }

class utf8_validation : public testing::TestWithParam<utf8_case> {};

TEST_P(utf8_validation, validate_and_repair) {
  const utf8_case& c = GetParam();
  EXPECT_EQ(is_valid_utf8(c.in), c.replacements == 0);
  const utf8_census census = scan_utf8(c.in);
  EXPECT_EQ(census.invalid_sequences, c.replacements);
  std::string s(c.in);
  EXPECT_EQ(repair_utf8(s), c.replacements);
  EXPECT_EQ(s, c.repaired);
  EXPECT_TRUE(is_valid_utf8(s));
  // Also with the problem behind a run long enough for the 8-byte fast path.
  const std::string pad(21, 'p');
  std::string padded = pad + std::string(c.in) + pad;
  EXPECT_EQ(is_valid_utf8(padded), c.replacements == 0);
  EXPECT_EQ(repair_utf8(padded), c.replacements);
  EXPECT_EQ(padded, pad + std::string(c.repaired) + pad);
}

#define FFFD "\xEF\xBF\xBD"

INSTANTIATE_TEST_SUITE_P(
    table, utf8_validation,
    testing::Values(
        utf8_case{"empty", "", "", 0},
        utf8_case{"ascii", "hello", "hello", 0},
        utf8_case{"nul", "a\0b"sv, "a\0b"sv, 0},
        utf8_case{"two_byte", "\xC3\xA9", "\xC3\xA9", 0},
        utf8_case{"two_byte_min", "\xC2\x80", "\xC2\x80", 0},
        utf8_case{"three_byte", "\xE2\x82\xAC", "\xE2\x82\xAC", 0},
        utf8_case{"three_byte_min", "\xE0\xA0\x80", "\xE0\xA0\x80", 0},
        utf8_case{"before_surrogates", "\xED\x9F\xBF", "\xED\x9F\xBF", 0},
        utf8_case{"after_surrogates", "\xEE\x80\x80", "\xEE\x80\x80", 0},
        utf8_case{"four_byte", "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80", 0},
        utf8_case{"max", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF", 0},
        utf8_case{"overlong_2", "\xC0\x80", FFFD FFFD, 2},
        utf8_case{"overlong_2_c1", "\xC1\xBF", FFFD FFFD, 2},
        utf8_case{"overlong_3", "\xE0\x80\x80", FFFD FFFD FFFD, 3},
        utf8_case{"overlong_3_high", "\xE0\x9F\xBF", FFFD FFFD FFFD, 3},
        utf8_case{"overlong_4", "\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD, 4},
        utf8_case{"overlong_4_high", "\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD, 4},
        utf8_case{"surrogate_high", "\xED\xA0\x80", FFFD FFFD FFFD, 3},
        utf8_case{"surrogate_low", "\xED\xBF\xBF", FFFD FFFD FFFD, 3},
        utf8_case{"above_max", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4},
        utf8_case{"f5_lead", "\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD, 4},
        utf8_case{"ff_fe", "\xFF\xFE", FFFD FFFD, 2},
        utf8_case{"lone_continuation", "a\x80z", "a" FFFD "z", 1},
        utf8_case{"truncated_2", "a\xC3", "a" FFFD, 1},
        utf8_case{"truncated_3", "\xE2\x82", FFFD, 1},
        utf8_case{"truncated_4", "\xF0\x9F\x98", FFFD, 1},
        utf8_case{"truncated_4_then_ascii", "\xF0\x9F\x98" "A", FFFD "A", 1},
        utf8_case{"truncated_then_valid", "\xE2\x82\xC3\xA9", FFFD "\xC3\xA9", 1},
        utf8_case{"latin1_word", "caf\xE9", "caf" FFFD, 1},
        utf8_case{"latin1_before_ascii", "\xE9t\xE9", FFFD "t" FFFD, 2},
        utf8_case{"mixed", "a\xFF" "b\xC3\xA9", "a" FFFD "b\xC3\xA9", 1}),
    [](const testing::TestParamInfo<utf8_case>& info) { return std::string(info.param.name); });

TEST(utf8, census) {
  const utf8_census c = scan_utf8("\xC3\xA9\xFF\xE2\x82 \xF0\x9F\x98\x80");
  EXPECT_EQ(c.multibyte, 2u);
  EXPECT_EQ(c.invalid_sequences, 2u);
  EXPECT_EQ(c.invalid_bytes, 3u);
  EXPECT_EQ(c.first_invalid, 2u);
  const utf8_census ok = scan_utf8("ascii only, long enough for several words");
  EXPECT_EQ(ok.multibyte, 0u);
  EXPECT_EQ(ok.invalid_sequences, 0u);
  EXPECT_EQ(ok.first_invalid, npos);
}

TEST(utf8, invalid_at_every_position_of_long_input) {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s[at] = '\x80';
    EXPECT_FALSE(is_valid_utf8(s)) << at;
    EXPECT_EQ(scan_utf8(s).first_invalid, at);
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitrary bytes: nothing may crash (run under ASan/UBSan), and repaired text must be valid.

TEST(text, random_bytes_are_safe) {
  std::mt19937 rng(12345);
  const std::string_view alphabet[] = {"&",  "#",   "x",  ";",        "amp", "nbsp", "copy",
                                       "9",  "F",   "=",  "\xEF\xBF", "\xBE", "\xC3", "\xA9",
                                       "\0"sv, "\r", "\"", "<",        "\x80", "\xF4", "a"};
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    const int parts = static_cast<int>(rng() % 24);
    for (int i = 0; i < parts; ++i) in += alphabet[rng() % std::size(alphabet)];
    std::string out;
    entity_stats stats;
    decode_entities(in, out, &stats);
    decode_entities(in, out, &stats, entity_set::xml);
    if (stats.first_problem != npos) {
      EXPECT_LT(stats.first_problem, in.size());
      EXPECT_EQ(in[stats.first_problem], '&');
    }
    append_xml_escaped(out, in);
    append_xml_attr_escaped(out, in);
    append_json_escaped(out, in);
    std::string repaired = in;
    repair_utf8(repaired);
    EXPECT_TRUE(is_valid_utf8(repaired));
    if (is_valid_utf8(in)) {
      std::string decoded;
      decode_entities(in, decoded);
      EXPECT_TRUE(is_valid_utf8(decoded)) << in;
    }
  }
}

}  // namespace
}  // namespace syndic::formats::detail
