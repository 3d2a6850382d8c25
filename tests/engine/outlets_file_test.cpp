// Outlets from CSV and TOML: defaults, every column, and file:line errors for bad rows.

#include <syndic/engine/outlet.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace syndic::engine {
namespace {

std::string errors_text(const outlets_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

TEST(OutletsCsv, MinimalColumnsTakeDefaults) {
  auto r = parse_outlets_csv("id,url,format\na,http://127.0.0.1:9000/a,webhook\n", "o.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.outlets.size(), 1u);
  const auto& o = r.outlets[0];
  EXPECT_EQ(o.id, "a");
  EXPECT_EQ(o.format, payload_format::webhook);
  EXPECT_EQ(o.rate, 0);
  EXPECT_EQ(o.max_in_flight, 4u);
  EXPECT_FALSE(o.ordered);
}

TEST(OutletsCsv, EveryColumnQuotedFieldsAndEmptyCells) {
  auto r = parse_outlets_csv(
      "id,url,format,secret,rate,burst,max_in_flight,batch,ordered,timeout_ms,languages,categories,sources,headers\n"
      "n1,https://news.example/hook,atom,whsec_Zm9v,10,5,2,20,true,2500,en;fr,Business; Tech,wire,"
      "\"X-Api-Key: k1;X-Team: a, b\"\n"
      "# a comment line\n"
      "\n"
      "n2,http://127.0.0.1:8080/x,rss,,,,,,,,,,,\n",
      "o.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.outlets.size(), 2u);
  const auto& a = r.outlets[0];
  EXPECT_EQ(a.format, payload_format::atom);
  EXPECT_EQ(a.secret, "whsec_Zm9v");
  EXPECT_EQ(a.rate, 10);
  EXPECT_EQ(a.burst, 5);
  EXPECT_EQ(a.max_in_flight, 2u);
  EXPECT_EQ(a.batch, 20u);
  EXPECT_TRUE(a.ordered);
  EXPECT_EQ(a.timeout.count(), 2500);
  EXPECT_EQ(a.languages, (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(a.categories, (std::vector<std::string>{"Business", "Tech"}));
  ASSERT_EQ(a.headers.size(), 2u);
  EXPECT_EQ(a.headers[1], (std::pair<std::string, std::string>{"X-Team", "a, b"}));
  EXPECT_EQ(r.outlets[1].format, payload_format::rss);
  EXPECT_EQ(r.outlets[1].rate, 0);
}

TEST(OutletsCsv, RetryPolicyColumns) {
  auto r = parse_outlets_csv(
      "id,url,format,retry_base_ms,retry_factor,retry_cap_ms,retry_max_attempts,retry_max_age_ms,retry_after_max_ms\n"
      "a,http://h/,webhook,250,2.5,60000,12,86400000,30000\n"
      "b,http://h/b,webhook,,,,,,\n",
      "r.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const auto& a = r.outlets[0].retry;
  EXPECT_EQ(a.base.count(), 250);
  EXPECT_EQ(a.factor, 2.5);
  EXPECT_EQ(a.cap.count(), 60000);
  EXPECT_EQ(a.max_attempts, 12u);
  EXPECT_EQ(a.max_age.count(), 86400000);
  EXPECT_EQ(a.max_retry_after.count(), 30000);
  EXPECT_EQ(r.outlets[1].retry.max_attempts, retry_settings{}.max_attempts);  // empty: default

  auto bad = parse_outlets_csv("id,url,format,retry_factor,retry_base_ms,retry_max_attempts\n"
                               "c,http://h/,webhook,0.5,0,0\n", "bad.csv");
  auto text = errors_text(bad);
  EXPECT_NE(text.find("bad.csv:2: column 'retry_factor': not a factor"), std::string::npos) << text;
  EXPECT_NE(text.find("bad.csv:2: column 'retry_base_ms': not a number of milliseconds (>= 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("bad.csv:2: column 'retry_max_attempts': not a positive integer"), std::string::npos) << text;
  EXPECT_TRUE(bad.outlets.empty());
}

TEST(OutletsCsv, BadRowsAreReportedWithLineAndColumnAndNothingStarts) {
  auto r = parse_outlets_csv(
      "id,url,format,rate\n"
      "ok,http://127.0.0.1:1/a,webhook,1\n"
      "b,ftp://x.example/,webhook,1\n"
      "c,http://127.0.0.1:1/c,yaml,1\n"
      "d,http://127.0.0.1:1/d,rss,fast\n"
      "e,http://127.0.0.1:1/e\n"
      "ok,http://127.0.0.1:1/dup,rss,2\n",
      "outlets.csv");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.outlets.empty());
  std::string text = errors_text(r);
  EXPECT_NE(text.find("outlets.csv:3: column 'url': scheme must be http or https"), std::string::npos) << text;
  EXPECT_NE(text.find("outlets.csv:4: column 'format': unknown format 'yaml'"), std::string::npos) << text;
  EXPECT_NE(text.find("outlets.csv:5: column 'rate': not a rate"), std::string::npos) << text;
  EXPECT_NE(text.find("outlets.csv:6: 2 fields, the header has 4"), std::string::npos) << text;
  EXPECT_NE(text.find("outlets.csv:7: column 'id': duplicate id 'ok' (first on line 2)"), std::string::npos) << text;
}

TEST(OutletsCsv, HeaderValuesCannotSmuggleLines) {
  auto r = parse_outlets_csv("id,url,format,headers\n"
                             "a,http://h/,webhook,\"X-A: one\r\nX-Injected: two\"\n", "h.csv");
  auto text = errors_text(r);
  EXPECT_NE(text.find("h.csv:2: column 'headers': header 'X-A' has a line break"), std::string::npos) << text;
  EXPECT_TRUE(r.outlets.empty());
}

TEST(OutletsCsv, HeaderProblems) {
  EXPECT_NE(errors_text(parse_outlets_csv("", "e.csv")).find("e.csv:1: empty file"), std::string::npos);
  std::string t = errors_text(parse_outlets_csv("id,url,colour\n", "h.csv"));
  EXPECT_NE(t.find("h.csv:1: column 'colour': unknown column"), std::string::npos) << t;
  EXPECT_NE(t.find("h.csv:1: column 'format': required column is missing"), std::string::npos) << t;
  t = errors_text(parse_outlets_csv("id,url,format\na,\"http://x\n", "q.csv"));
  EXPECT_NE(t.find("q.csv:2: a quoted field is not closed"), std::string::npos) << t;
}

TEST(OutletsToml, SameKeysSameChecks) {
  auto r = parse_outlets_toml(R"(
[[outlet]]
id = "a"
url = "http://127.0.0.1:9000/a"
format = "jsonfeed"
rate = 2.5
ordered = true
languages = ["en", "de"]

[[outlet]]
id = "b"
url = "http://127.0.0.1:9000/b"
format = "websub"
timeout_ms = 0
)", "o.toml");
  EXPECT_FALSE(r.ok());
  std::string t = errors_text(r);
  EXPECT_NE(t.find("o.toml:14: column 'timeout_ms': not a positive number"), std::string::npos) << t;

  r = parse_outlets_toml("[[outlet]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/\"\nformat = \"rss\"\nrate = 2.5\nlanguages = [\"en\", \"de\"]\n", "o.toml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.outlets[0].rate, 2.5);
  EXPECT_EQ(r.outlets[0].languages, (std::vector<std::string>{"en", "de"}));

  t = errors_text(parse_outlets_toml("[[outlet]\nid=", "broken.toml"));
  EXPECT_NE(t.find("broken.toml:1: "), std::string::npos) << t;
  t = errors_text(parse_outlets_toml("[[outlet]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/\"\n", "m.toml"));
  EXPECT_NE(t.find("m.toml:1: column 'format': required key is missing"), std::string::npos) << t;
}

TEST(Outlets, LoadByExtensionAndMissingFile) {
  std::string path = ::testing::TempDir() + "/outlets_test.toml";
  std::ofstream(path) << "[[outlet]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/\"\nformat = \"rss\"\n";
  auto r = load_outlets(path);
  EXPECT_TRUE(r.ok()) << errors_text(r);
  std::remove(path.c_str());
  auto missing = load_outlets("/nonexistent/outlets.csv");
  EXPECT_NE(errors_text(missing).find("/nonexistent/outlets.csv: cannot open the file"), std::string::npos);
}

}  // namespace
}  // namespace syndic::engine
