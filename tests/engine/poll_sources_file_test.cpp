// Sources from CSV and TOML (poll/sources_file.hpp), check_source, and a source as JSON
// (poll/source_json.hpp): defaults, every column, every error with its file:line message,
// and no secret (URL userinfo, header value) ever quoted.

#include "poll/source_json.hpp"
#include "poll/sources_file.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace syndic::poll {
namespace {

using std::chrono::seconds;

std::string errors_text(const sources_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

// The single error of a CSV with a header and one row.
std::string one_csv_error(std::string_view columns, std::string_view row) {
  auto r = parse_sources_csv(std::string(columns) + "\n" + std::string(row) + "\n", "s.csv");
  if (r.errors.size() != 1) return "expected one error, got:\n" + errors_text(r);
  EXPECT_TRUE(r.sources.empty());
  return r.errors[0].to_string();
}

struct temp_file {
  std::string path;
  temp_file(std::string_view text, const std::string& name) {
    path = (std::filesystem::temp_directory_path() / ("syndic_sources_" + std::to_string(::getpid()) + "_" + name))
               .string();
    std::ofstream(path, std::ios::binary) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

TEST(SourcesCsv, IdAndUrlSufficeAndTakeDefaults) {
  auto r = parse_sources_csv("id,url\nwire,https://example.com/feed.xml\n", "s.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.sources.size(), 1u);
  const source& s = r.sources[0];
  EXPECT_EQ(s.id, "wire");
  EXPECT_EQ(s.url, "https://example.com/feed.xml");
  EXPECT_EQ(s.channel, "");
  EXPECT_TRUE(s.tags.empty());
  EXPECT_EQ(s.min_interval, seconds(60));
  EXPECT_EQ(s.max_interval, seconds(3600));
  EXPECT_TRUE(s.headers.empty());
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.republish_updates);
  EXPECT_EQ(s.origin, "s.csv:2");
}

TEST(SourcesCsv, EveryColumnQuotedCellsCommentsAndEmptyCells) {
  auto r = parse_sources_csv(
      "\xEF\xBB\xBFid, url ,channel,min_interval,max_interval,tags,headers,enabled,republish_updates\n"
      "a,http://127.0.0.1:9000/a.xml,business,300,2h,lang:en; business ;Tech,"
      "\"Authorization: Bearer abc;X-Team: a, b\",false,yes\n"
      "# a comment line\n"
      "\n"
      "b,file:///var/feeds/b.xml,,5m,,,,,\n"
      "\"c\",\"https://example.com/c?x=1,2\",,,1d,,,1,0\n",
      "s.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.sources.size(), 3u);
  const source& a = r.sources[0];
  EXPECT_EQ(a.channel, "business");
  EXPECT_EQ(a.min_interval, seconds(300));
  EXPECT_EQ(a.max_interval, seconds(7200));
  EXPECT_EQ(a.tags, (std::vector<std::string>{"lang:en", "business", "Tech"}));
  ASSERT_EQ(a.headers.size(), 2u);
  EXPECT_EQ(a.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer abc"}));
  EXPECT_EQ(a.headers[1], (std::pair<std::string, std::string>{"X-Team", "a, b"}));
  EXPECT_FALSE(a.enabled);
  EXPECT_TRUE(a.republish_updates);
  const source& b = r.sources[1];
  EXPECT_EQ(b.url, "file:///var/feeds/b.xml");
  EXPECT_EQ(b.min_interval, seconds(300));
  EXPECT_EQ(b.max_interval, seconds(3600));
  EXPECT_EQ(b.origin, "s.csv:5");
  const source& c = r.sources[2];
  EXPECT_EQ(c.id, "c");
  EXPECT_EQ(c.url, "https://example.com/c?x=1,2");
  EXPECT_EQ(c.max_interval, seconds(86400));
  EXPECT_TRUE(c.enabled);
  EXPECT_FALSE(c.republish_updates);
}

TEST(SourcesCsv, DefaultsFromTheSettingsAndOneBoundFollowsTheOther) {
  source_defaults d{seconds(120), seconds(600)};
  auto r = parse_sources_csv(
      "id,url,min_interval,max_interval\n"
      "a,http://h/a,,\n"
      "b,http://h/b,7200,\n"  // max follows min up
      "c,http://h/c,,30\n"    // min follows max down
      "d,http://h/d,10,20\n",
      "s.csv", d);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.sources.size(), 4u);
  EXPECT_EQ(r.sources[0].min_interval, seconds(120));
  EXPECT_EQ(r.sources[0].max_interval, seconds(600));
  EXPECT_EQ(r.sources[1].min_interval, seconds(7200));
  EXPECT_EQ(r.sources[1].max_interval, seconds(7200));
  EXPECT_EQ(r.sources[2].min_interval, seconds(30));
  EXPECT_EQ(r.sources[2].max_interval, seconds(30));
  EXPECT_EQ(r.sources[3].min_interval, seconds(10));
  EXPECT_EQ(r.sources[3].max_interval, seconds(20));
}

TEST(SourcesCsv, Intervals) {
  EXPECT_EQ(parse_interval("1"), seconds(1));
  EXPECT_EQ(parse_interval("90s"), seconds(90));
  EXPECT_EQ(parse_interval("5m"), seconds(300));
  EXPECT_EQ(parse_interval("2h"), seconds(7200));
  EXPECT_EQ(parse_interval("30d"), seconds(30 * 86400));
  EXPECT_EQ(parse_interval("2592000"), seconds(2592000));
  for (std::string_view bad : {"", "0", "0m", "-5", "+5", "31d", "2592001", "1.5h", "5 m", "m", "5x", "1w",
                               "99999999999999999999", "18446744073709551615d"})
    EXPECT_FALSE(parse_interval(bad)) << bad;
}

TEST(SourcesCsv, HeaderRowErrors) {
  auto r = parse_sources_csv("", "s.csv");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "s.csv:1: empty file: expected a header row naming the columns (id,url,...)");

  r = parse_sources_csv("id,link,id\nx,y,z\n", "s.csv");
  ASSERT_EQ(r.errors.size(), 3u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "s.csv:1: column 'link': unknown column (known: channel, enabled, headers, id, max_interval, "
            "min_interval, republish_updates, tags, url)");
  EXPECT_EQ(r.errors[1].to_string(), "s.csv:1: column 'id': column named twice");
  EXPECT_EQ(r.errors[2].to_string(), "s.csv:1: column 'url': required column is missing");
  EXPECT_TRUE(r.sources.empty());
}

TEST(SourcesCsv, EveryCellErrorHasItsLineAndColumn) {
  const std::string cols = "id,url,channel,min_interval,max_interval,tags,headers,enabled,republish_updates";
  EXPECT_EQ(one_csv_error(cols, ",http://h/,,,,,,,"), "s.csv:2: column 'id': required value is empty");
  EXPECT_EQ(one_csv_error(cols, "a b,http://h/,,,,,,,"),
            "s.csv:2: column 'id': not an id (1 to 128 of [A-Za-z0-9._-]): 'a b'");
  EXPECT_EQ(one_csv_error(cols, std::string(129, 'x') + ",http://h/,,,,,,,").substr(0, 30),
            "s.csv:2: column 'id': not an i");
  EXPECT_EQ(one_csv_error(cols, "a,,,,,,,,"), "s.csv:2: column 'url': required value is empty");
  EXPECT_EQ(one_csv_error(cols, "a,ftp://h/f,,,,,,,"),
            "s.csv:2: column 'url': scheme must be http or https (or file): 'ftp://h/f'");
  EXPECT_EQ(one_csv_error(cols, "a,http://,,,,,,,"), "s.csv:2: column 'url': no host: 'http://'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h:99999/,,,,,,,"),
            "s.csv:2: column 'url': port must be 1 to 65535: 'http://h:99999/'");
  EXPECT_EQ(one_csv_error(cols, "a,file://host/x,,,,,,,"),
            "s.csv:2: column 'url': a file:// URL names a local file (file:///path), not a host");
  EXPECT_EQ(one_csv_error(cols, "a,file:///x?y,,,,,,,"),
            "s.csv:2: column 'url': a file:// URL may not have a query or fragment");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,.x,,,,,,"),
            "s.csv:2: column 'channel': a channel is 1-64 of [A-Za-z0-9._-], not starting with '.': '.x'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,0,,,,,"),
            "s.csv:2: column 'min_interval': not an interval (seconds, or a number with s, m, h or d: 300, 5m, 1h) "
            "from 1 s to 30 days: '0'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,31d,,,,"),
            "s.csv:2: column 'max_interval': not an interval (seconds, or a number with s, m, h or d: 300, 5m, 1h) "
            "from 1 s to 30 days: '31d'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,2h,1h,,,,"),
            "s.csv:2: column 'min_interval': min_interval (7200 s) is above max_interval (3600 s)");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,\"x\ty\",,,"),
            "s.csv:2: column 'tags': a tag holds a ';', a line break or another control character: 'x\\x09y'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,,Authorization,,"),
            "s.csv:2: column 'headers': header 1 is not 'Name: value'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,,X-A: 1;: v,,"),
            "s.csv:2: column 'headers': header 2 is not 'Name: value'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,,Bad Name: v,,"),
            "s.csv:2: column 'headers': bad header name (RFC 9110 token characters only)");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,,,maybe,"), "s.csv:2: column 'enabled': not true or false: 'maybe'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/,,,,,,,2"),
            "s.csv:2: column 'republish_updates': not true or false: '2'");
  EXPECT_EQ(one_csv_error(cols, "a,http://h/"), "s.csv:2: 2 fields, the header has 9");
  EXPECT_EQ(one_csv_error(cols, "a,\"http://h/,,,,,,,"), "s.csv:2: a quoted field is not closed");
}

TEST(SourcesCsv, ReservedHeadersAreRefused) {
  for (std::string_view name : {"Host", "content-length", "Transfer-Encoding", "CONNECTION", "If-None-Match",
                                "if-modified-since", "Accept-Encoding", "User-Agent", "TE", "Upgrade"}) {
    std::string e = one_csv_error("id,url,headers", "a,http://h/," + std::string(name) + ": x-secret-value");
    EXPECT_EQ(e, "s.csv:2: column 'headers': header '" + std::string(name) +
                     "' is set by syndic itself and cannot be configured");
  }
}

// A CR or LF anywhere is refused (a line break in a header or the URL would split the
// request), and the messages never quote the secret around it.
TEST(SourcesCsv, LineBreaksAreRefusedWithoutQuotingSecrets) {
  std::string e = one_csv_error("id,url,headers", "a,http://h/,\"Authorization: Bearer sekrit\rX-Evil: 1\"");
  EXPECT_EQ(e, "s.csv:2: column 'headers': header 'Authorization' has a line break, NUL or other control "
               "character in its value");
  e = one_csv_error("id,url,headers", "a,http://h/,\"Authorization: Bearer sekrit\nX-Evil: 1\"");
  EXPECT_EQ(e, "s.csv:2: column 'headers': header 'Authorization' has a line break, NUL or other control "
               "character in its value");
  e = one_csv_error("id,url", "a,\"http://user:sekrit@h/\r\nHost: evil\"");
  EXPECT_EQ(e, "s.csv:2: column 'url': holds a line break, NUL or other control character");
  e = one_csv_error("id,url", "a,http://user:sekrit@h:0/");
  EXPECT_EQ(e.find("sekrit"), std::string::npos) << e;
  EXPECT_NE(e.find("***@h:0"), std::string::npos) << e;
  e = one_csv_error("id,url", "a,gopher://user:sekrit@h/");
  EXPECT_EQ(e, "s.csv:2: column 'url': scheme must be http or https (or file): 'gopher://***@h/'");
  e = one_csv_error("id,url", "a,file://user:sekrit@/x");
  EXPECT_EQ(e.find("sekrit"), std::string::npos) << e;
}

TEST(SourcesCsv, DuplicateIdsAndNothingHalfLoaded) {
  auto r = parse_sources_csv(
      "id,url\n"
      "a,http://h/a\n"
      "b,http://h/b\n"
      "a,http://h/a2\n"
      "c,nope\n",
      "s.csv");
  ASSERT_EQ(r.errors.size(), 2u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.csv:5: column 'url': not a URL: 'nope'");
  EXPECT_EQ(r.errors[1].to_string(), "s.csv:4: column 'id': duplicate id 'a' (first on line 2)");
  EXPECT_TRUE(r.sources.empty());
}

TEST(SourcesCsv, QuotedNewlinesCountLines) {
  // A line break inside quotes is no tag either, but the next record's line is right.
  auto r = parse_sources_csv("id,url,tags\na,http://h/a,\"x;\ny\"\nb,bad,\n", "s.csv");
  ASSERT_EQ(r.errors.size(), 2u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[1].line, 4u);
}

TEST(SourcesToml, SameKeysAsTheCsv) {
  auto r = parse_sources_toml(R"([[source]]
id = "a"
url = "https://example.com/a.xml"
channel = "business"
tags = ["lang:en", "business"]
min_interval = 300
max_interval = "2h"
headers = ["Authorization: Bearer abc", "X-Team: a, b"]
enabled = false
republish_updates = true

[[source]]
id = "b"
url = "file:///srv/b.xml"
)",
                              "s.toml", {seconds(30), seconds(90)});
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.sources.size(), 2u);
  const source& a = r.sources[0];
  EXPECT_EQ(a.channel, "business");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"lang:en", "business"}));
  EXPECT_EQ(a.min_interval, seconds(300));
  EXPECT_EQ(a.max_interval, seconds(7200));
  ASSERT_EQ(a.headers.size(), 2u);
  EXPECT_EQ(a.headers[1].second, "a, b");
  EXPECT_FALSE(a.enabled);
  EXPECT_TRUE(a.republish_updates);
  EXPECT_EQ(a.origin, "s.toml:1");
  EXPECT_EQ(r.sources[1].min_interval, seconds(30));
  EXPECT_EQ(r.sources[1].max_interval, seconds(90));
  EXPECT_EQ(r.sources[1].origin, "s.toml:12");
}

TEST(SourcesToml, ErrorsNameTheLineAndKey) {
  auto r = parse_sources_toml(R"([[source]]
id = "a"
url = "http://h/a"
min_interval = 0
tags = ["x", 3]
colour = "red"
enabled = "perhaps"

[[source]]
url = "http://h/b"

[[source]]
id = "a"
url = "http://h/a2"
headers = ["Host: evil"]
max_interval = 1.5
)",
                              "s.toml");
  std::string all = errors_text(r);
  EXPECT_NE(all.find("s.toml:4: column 'min_interval': not an interval"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:5: column 'tags': a list must hold strings only (without ';')"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:6: column 'colour': unknown key (known: "), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:7: column 'enabled': not true or false: 'perhaps'"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:9: column 'id': required key is missing"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:15: column 'headers': header 'Host' is set by syndic itself"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:16: column 'max_interval': unsupported value type"), std::string::npos) << all;
  EXPECT_EQ(r.errors.size(), 7u) << all;
  EXPECT_TRUE(r.sources.empty());
}

TEST(SourcesToml, SyntaxErrorsAndShapes) {
  auto r = parse_sources_toml("[[source]]\nid = \"a\"\nurl = \n", "s.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3u);

  r = parse_sources_toml("[source]\nid = \"a\"\nurl = \"http://h/\"\n", "s.toml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.toml:1: column 'source': sources are written as [[source]] tables (an array of tables)");

  r = parse_sources_toml("[[sources]]\nid = \"a\"\n", "s.toml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.toml:1: column 'sources': unknown key (a sources file holds [[source]] tables only)");

  r = parse_sources_toml("[[source]]\nid = \"a\"\nurl = \"http://h/\"\n[[source]]\nid = \"a\"\nurl = \"http://h/\"\n",
                         "s.toml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.toml:4: column 'id': duplicate id 'a' (first on line 1)");

  r = parse_sources_toml("", "s.toml");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.sources.empty());
}

TEST(SourcesToml, SecretsAreNeverQuoted) {
  auto r = parse_sources_toml(R"([[source]]
id = "a"
url = "http://user:s3cr3t@h:0/feed"

[[source]]
id = "b"
url = "http://h/b"
headers = ["Authorization: Bearer s3cr3t\r\nX-Evil: 1"]

[[source]]
id = "c"
url = "gopher://user:s3cr3t@h/"

[[source]]
id = "d"
url = "http://h/d"
headers = ["Authorization Bearer s3cr3t"]
)",
                              "s.toml");
  std::string all = errors_text(r);
  EXPECT_EQ(r.errors.size(), 4u) << all;
  EXPECT_EQ(all.find("s3cr3t"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:3: column 'url': port must be 1 to 65535: 'http://***@h:0/feed'"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:8: column 'headers': header 'Authorization' has a line break"), std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:12: column 'url': scheme must be http or https (or file): 'gopher://***@h/'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("s.toml:17: column 'headers': header 1 is not 'Name: value'"), std::string::npos) << all;
}

// The daemon's config file: its settings are ignored here, its [[source]] tables read.
TEST(SourcesToml, FromTheDaemonsConfigFile) {
  temp_file config(R"(listen = "127.0.0.1:0"
[store]
synchronous = "normal"

[[source]]
id = "a"
url = "http://h/a"

[poll]
host_gap_ms = 10
)",
                   "syndic.toml");
  auto r = load_sources_from_config(config.path);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_EQ(r.sources[0].origin, config.path + ":5");

  temp_file csv("id,url\nb,http://h/b\na,http://h/a-again\n", "sources.csv");
  auto both = load_file_sources(config.path, csv.path);
  ASSERT_EQ(both.errors.size(), 1u) << errors_text(both);
  EXPECT_EQ(both.errors[0].to_string(),
            csv.path + ":3: column 'id': duplicate id 'a' (also in " + config.path + ":5)");
  EXPECT_TRUE(both.sources.empty());

  temp_file csv_ok("id,url\nb,http://h/b\n", "sources_ok.csv");
  both = load_file_sources(config.path, csv_ok.path);
  ASSERT_TRUE(both.ok()) << errors_text(both);
  EXPECT_EQ(both.sources.size(), 2u);

  auto missing = load_sources("/nonexistent/sources.csv");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].to_string(), "/nonexistent/sources.csv: cannot open the file");

  temp_file toml("[[source]]\nid = \"t\"\nurl = \"http://h/t\"\n", "sources.toml");
  auto by_extension = load_sources(toml.path);
  ASSERT_TRUE(by_extension.ok()) << errors_text(by_extension);
  EXPECT_EQ(by_extension.sources[0].id, "t");
}

TEST(CheckSource, Rules) {
  source s;
  s.id = "a";
  s.url = "https://example.com/feed";
  EXPECT_EQ(check_source(s, false), "");
  s.url = "file:///srv/feed.xml";
  EXPECT_EQ(check_source(s, true), "");
  EXPECT_EQ(check_source(s, false), "source 'a': url: file:// URLs are for the operator's own files only, not the API");
  s.url = "https://example.com/feed";
  s.min_interval = seconds(0);
  EXPECT_EQ(check_source(s, true), "source 'a': min_interval: 0 s is outside 1 s to 30 days");
  s.min_interval = seconds(10);
  s.max_interval = seconds(31 * 86400);
  EXPECT_EQ(check_source(s, true), "source 'a': max_interval: 2678400 s is outside 1 s to 30 days");
  s.max_interval = seconds(5);
  EXPECT_EQ(check_source(s, true), "source 'a': min_interval (10 s) is above max_interval (5 s)");
  s.max_interval = seconds(10);
  s.headers = {{"X-Key", "v\x01"}};
  EXPECT_EQ(check_source(s, true),
            "source 'a': headers: header 'X-Key' has a line break, NUL or other control character in its value");
  s.headers = {{"X-Key", std::string("\xff\xfe", 2)}};
  EXPECT_EQ(check_source(s, true), "source 'a': headers: header 'X-Key' has a value that is not UTF-8");
  s.headers = {{"X-Key", "v\tw"}};
  EXPECT_EQ(check_source(s, true), "");
  s.tags = {std::string("\xc3", 1)};
  EXPECT_EQ(check_source(s, true), "source 'a': tags: a tag is not UTF-8");
  s.tags = {"Économie"};
  EXPECT_EQ(check_source(s, true), "");
  s.id = "";
  EXPECT_EQ(check_source(s, true), "id: 1 to 128 of [A-Za-z0-9._-]");
  s.id = "a/b";
  EXPECT_EQ(check_source(s, true), "id: 1 to 128 of [A-Za-z0-9._-]");
  s.id = "a";
  s.url = std::string("http://h/\0x", 11);
  EXPECT_EQ(check_source(s, true), "source 'a': url: holds a line break, NUL or other control character");
}

TEST(SourceJson, RoundTrip) {
  source s;
  s.id = "wire.biz";
  s.url = "https://user:pw@example.com/feed?x=%221%22";
  s.channel = "business";
  s.tags = {"lang:en", "Économie"};
  s.min_interval = seconds(30);
  s.max_interval = seconds(7200);
  s.headers = {{"Authorization", "Bearer \"abc\" \\ z"}, {"X-Key", "k;2"}};
  s.enabled = false;
  s.republish_updates = true;
  s.origin = "api";
  std::string json = source_to_json(s);
  std::string error;
  source back = source_from_json(json, error);
  ASSERT_EQ(error, "") << json;
  EXPECT_EQ(back, s);
}

TEST(SourceJson, RedactedForTheApi) {
  source s;
  s.id = "a";
  s.url = "https://user:pw@example.com/feed";
  s.headers = {{"Authorization", "Bearer topsecret"}};
  std::string json = source_to_json(s, header_values::redact);
  EXPECT_EQ(json.find("topsecret"), std::string::npos) << json;
  EXPECT_EQ(json.find("pw"), std::string::npos) << json;
  EXPECT_NE(json.find("\"Authorization\":\"<redacted>\""), std::string::npos) << json;
  EXPECT_NE(json.find("https://***@example.com/feed"), std::string::npos) << json;
}

TEST(SourceJson, BodiesAsTheApiTakesThem) {
  std::string error;
  source s = source_from_json(
      R"({"url":"http://h/f","tags":["a"],"headers":["X-A: 1;2"],"min_interval":"5m","channel":null})", error,
      {seconds(60), seconds(120)}, "from-path");
  ASSERT_EQ(error, "");
  EXPECT_EQ(s.id, "from-path");
  EXPECT_EQ(s.min_interval, seconds(300));
  EXPECT_EQ(s.max_interval, seconds(300));  // follows min up from the default 120
  ASSERT_EQ(s.headers.size(), 1u);
  EXPECT_EQ(s.headers[0].second, "1;2");
  EXPECT_EQ(s.origin, "api");

  s = source_from_json(R"({"id":"x","url":"http://h/f"})", error, {seconds(45), seconds(900)});
  ASSERT_EQ(error, "");
  EXPECT_EQ(s.min_interval, seconds(45));
  EXPECT_EQ(s.max_interval, seconds(900));
}

TEST(SourceJson, ErrorsNameTheKeyAndNeverQuoteSecrets) {
  auto err = [](std::string_view body, std::string_view path_id = {}) {
    std::string e;
    source s = source_from_json(body, e, {}, path_id);
    EXPECT_EQ(s, source{}) << body;
    return e;
  };
  EXPECT_EQ(err("{").substr(0, 25), "body is not valid JSON: T");
  EXPECT_EQ(err("[]"), "a source is a JSON object");
  EXPECT_EQ(err(R"({"url":"http://h/"})"), "key 'id': required");
  EXPECT_EQ(err(R"({"id":"a"})"), "key 'url': required");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/"})", "b"), "key 'id': differs from the id in the path");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","colour":1})").substr(0, 34), "key 'colour': unknown key (known: ");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","Bad Key\n":1})").substr(0, 19), "unknown key (known:");
  EXPECT_EQ(err(R"({"id":"a","url":"file:///etc/passwd"})"),
            "source 'a': url: file:// URLs are for the operator's own files only, not the API");
  EXPECT_EQ(err(R"({"id":"a","url":7})"), "key 'url': a string");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","min_interval":-1})"),
            "key 'min_interval': not an interval (seconds, or a number with s, m, h or d: 300, 5m, 1h) from 1 s to "
            "30 days: '-1'");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","min_interval":true})"),
            "key 'min_interval': integer seconds, or a string such as \"5m\"");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","min_interval":600,"max_interval":60})"),
            "source 'a': min_interval (600 s) is above max_interval (60 s)");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","enabled":"yes"})"), "key 'enabled': true or false");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","tags":"x"})"), "key 'tags': a list of strings");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","tags":["a;b"]})"),
            "key 'tags': a tag holds a ';', a line break or another control character");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","headers":{"Host":"x"}})"),
            "key 'headers': header 'Host' is set by syndic itself and cannot be configured");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","headers":{"X":1}})"), "key 'headers': header values are strings");
  EXPECT_EQ(err(R"({"id":"a","url":"http://h/","headers":"X: y"})"),
            "key 'headers': an object of name to value, or a list of \"Name: value\" strings");
  std::string e = err(R"({"id":"a","url":"http://h/","headers":{"Authorization":"Bearer topsecret\r\nX-Evil: 1"}})");
  EXPECT_EQ(e, "key 'headers': header 'Authorization' has a line break, NUL or other control character in its value");
  e = err(R"({"id":"a","url":"http://user:topsecret@h:0/"})");
  EXPECT_EQ(e.find("topsecret"), std::string::npos) << e;
  e = err(R"({"id":"a","url":"http://user:topsecret@h/\r\nHost: x"})");
  EXPECT_EQ(e, "key 'url': holds a line break, NUL or other control character");
}

// The CSV and TOML examples of docs/daemon.md's Sources section read as written.
TEST(SourcesDocs, ExamplesParse) {
  std::ifstream docs(std::string(SYNDIC_SOURCE_DIR) + "/docs/daemon.md");
  ASSERT_TRUE(docs) << "docs/daemon.md is missing";
  std::string text((std::istreambuf_iterator<char>(docs)), {});
  auto section = text.find("## Sources");
  ASSERT_NE(section, std::string::npos);
  auto block = [&](std::string_view fence) {
    auto begin = text.find(std::string(fence) + "\n", section);
    if (begin == std::string::npos) return std::string();
    begin += fence.size() + 1;
    return text.substr(begin, text.find("```", begin) - begin);
  };
  std::string csv = block("```csv"), toml = block("```toml");
  ASSERT_FALSE(csv.empty());
  ASSERT_FALSE(toml.empty());
  auto c = parse_sources_csv(csv, "docs.csv");
  EXPECT_TRUE(c.ok()) << errors_text(c);
  EXPECT_EQ(c.sources.size(), 3u);
  auto t = parse_sources_toml(toml, "docs.toml");
  EXPECT_TRUE(t.ok()) << errors_text(t);
  EXPECT_EQ(t.sources.size(), 1u);
}

TEST(SourcesFiles, RemainingErrorPaths) {
  auto r = parse_sources_csv("id,\"url\n", "s.csv");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.csv:1: a quoted field is not closed");

  std::string tags, headers;
  for (int i = 0; i < 65; ++i) tags += "t" + std::to_string(i) + ";";
  for (int i = 0; i < 33; ++i) headers += "X-H" + std::to_string(i) + ": v;";
  EXPECT_EQ(one_csv_error("id,url,tags", "a,http://h/," + tags), "s.csv:2: column 'tags': more than 64 tags");
  EXPECT_EQ(one_csv_error("id,url,headers", "a,http://h/," + headers),
            "s.csv:2: column 'headers': more than 32 headers");
  EXPECT_EQ(one_csv_error("id,url,tags", "a,http://h/," + std::string(201, 'x')),
            "s.csv:2: column 'tags': a tag is longer than 200 bytes: '" + std::string(80, 'x') + "...'");
  EXPECT_EQ(one_csv_error("id,url", "a,http://h/" + std::string(4096, 'p')),
            "s.csv:2: column 'url': longer than 4096 bytes");

  r = parse_sources_toml("source = [1, 2]\n", "s.toml");
  ASSERT_EQ(r.errors.size(), 2u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.toml:1: a source must be a table ([[source]])");

  r = parse_sources_toml("[[source]]\nid = \"a\"\nurl = \" \"\n", "s.toml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "s.toml:3: column 'url': required value is empty");

  r = parse_sources_toml("[[source]]\nid = \"a\"\nurl = \"http://h/\"\nenabled = 2026-12-01\n", "s.toml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "s.toml:4: column 'enabled': unsupported value type (a string, an integer, true/false or a list of strings)");

  auto missing = load_sources_from_config("/nonexistent/syndic.toml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].to_string(), "/nonexistent/syndic.toml: cannot open the file");

  // Errors in both files are all reported, and nothing is loaded.
  temp_file config("[[source]]\nid = \"a\"\nurl = \"ftp://h/\"\n", "bad_config.toml");
  temp_file csv("id,url\nb,http://h/b\nc,\n", "bad_sources.csv");
  auto both = load_file_sources(config.path, csv.path);
  ASSERT_EQ(both.errors.size(), 2u) << errors_text(both);
  EXPECT_EQ(both.errors[0].line, 3u);
  EXPECT_EQ(both.errors[1].to_string(), csv.path + ":3: column 'url': required value is empty");
  EXPECT_TRUE(both.sources.empty());
}

}  // namespace
}  // namespace syndic::poll
