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

// Blank lines count as lines: a file of 100 million of them is read as no outlet, without
// reserving room for 100 million (51 GB of outlet_config, which the allocator refuses).
TEST(OutletsCsv, AFileOfBlankLinesReservesNoRoomForThem) {
  std::string text = "id,url,format\n" + std::string(100'000'000, '\n');
  outlets_result r;
  ASSERT_NO_THROW(r = parse_outlets_csv(text, "blank.csv"));
  EXPECT_TRUE(r.ok());
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

// The URL is parsed once, at load, by the rules the transports use: what the load accepts is
// sendable, and what could never be sent (a port past 65535 was retried for 26 hours) is a
// config error with its line.
TEST(OutletsCsv, UrlIsParsedOnceAtLoadIntoItsParts) {
  auto r = parse_outlets_csv("id,url,format\n"
                             "a,http://127.0.0.1:/x?y=1#frag,webhook\n"
                             "b,https://[::1]:8443,webhook\n"
                             "c,http://user:pw@example.org:8080/p,webhook\n",
                             "u.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const parsed_url& a = r.outlets[0].endpoint;
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.target, "/x?y=1");
  const parsed_url& b = r.outlets[1].endpoint;
  EXPECT_EQ(b.scheme, "https");
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 8443);
  EXPECT_EQ(b.target, "/");
  const parsed_url& c = r.outlets[2].endpoint;
  EXPECT_EQ(c.host, "example.org");
  EXPECT_EQ(c.userinfo, "user:pw");

  auto bad = parse_outlets_csv("id,url,format\n"
                               "p,http://127.0.0.1:99999/x,webhook\n"
                               "q,http://127.0.0.1:0/x,webhook\n"
                               "s,http:///nohost,webhook\n",
                               "bad.csv");
  std::string t = errors_text(bad);
  EXPECT_NE(t.find("bad.csv:2: column 'url': "), std::string::npos) << t;
  EXPECT_NE(t.find("bad.csv:3: column 'url': "), std::string::npos) << t;
  EXPECT_NE(t.find("bad.csv:4: column 'url': "), std::string::npos) << t;
}

// Framing headers set by an outlet would desync a connection that outlets share; signature
// headers would contradict the ones we compute.
TEST(OutletsCsv, ReservedHeadersAreRefused) {
  for (const char* h : {"Content-Length: 0", "transfer-encoding: chunked", "Host: evil.example",
                        "Connection: close", "webhook-signature: v1,x", "X-Hub-Signature: sha256=0"}) {
    std::string csv = std::string("id,url,format,headers\na,http://h/,webhook,\"") + h + "\"\n";
    auto r = parse_outlets_csv(csv, "h.csv");
    std::string t = errors_text(r);
    EXPECT_NE(t.find("h.csv:2: column 'headers': "), std::string::npos) << h << "\n" << t;
    EXPECT_TRUE(r.outlets.empty()) << h;
  }
}

// Secrets never reach a message: not the password in a URL, not a header's value.
TEST(OutletsCsv, ErrorMessagesDoNotRevealSecrets) {
  auto r = parse_outlets_csv("id,url,format,headers\n"
                             "a,ftp://alice:hunter2@x.example/,webhook,\n"
                             "b,http://h/,webhook,Authorization Bearer-s3cr3t-token\n"
                             "c,http://bob:pa55@h:99999/,webhook,\n",
                             "s.csv");
  std::string t = errors_text(r);
  EXPECT_EQ(r.errors.size(), 3u) << t;
  EXPECT_EQ(t.find("hunter2"), std::string::npos) << t;
  EXPECT_EQ(t.find("s3cr3t"), std::string::npos) << t;
  EXPECT_EQ(t.find("pa55"), std::string::npos) << t;
  EXPECT_EQ(redact_userinfo("connect http://u:p@h:1/x failed"), "connect http://***@h:1/x failed");
}

// A whsec_ secret is base64 by definition: a broken one used to become a raw key silently,
// and every signature the receiver checked failed.
TEST(OutletsCsv, BrokenWhsecSecretIsAnError) {
  auto r = parse_outlets_csv("id,url,format,secret\n"
                             "a,http://h/,webhook,whsec_not*base64!\n"
                             "b,http://h/b,webhook,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
                             "w.csv");
  std::string t = errors_text(r);
  EXPECT_NE(t.find("w.csv:2: column 'secret': "), std::string::npos) << t;
  EXPECT_EQ(t.find("not*base64"), std::string::npos) << t;
  EXPECT_EQ(r.errors.size(), 1u) << t;
}

TEST(OutletsCsv, TinyRateIsRefusedAndFollowRedirectsIsRead) {
  auto r = parse_outlets_csv("id,url,format,rate,follow_redirects\n"
                             "a,http://h/,webhook,1e-300,\n"
                             "b,http://h/b,webhook,0.5,maybe\n",
                             "r.csv");
  std::string t = errors_text(r);
  EXPECT_NE(t.find("r.csv:2: column 'rate': "), std::string::npos) << t;
  EXPECT_NE(t.find("r.csv:3: column 'follow_redirects': "), std::string::npos) << t;
  r = parse_outlets_csv("id,url,format,rate,follow_redirects\n"
                        "a,http://h/,webhook,0,true\n"
                        "b,http://h/b,webhook,0.5,\n",
                        "r.csv");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_TRUE(r.outlets[0].follow_redirects);
  EXPECT_FALSE(r.outlets[1].follow_redirects);
}

// An array with a non-string element used to be read as an empty filter: "no filter", the
// widest possible, when the author meant a narrow one.
TEST(OutletsToml, FilterArraysMustHoldStrings) {
  auto r = parse_outlets_toml("[[outlet]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/\"\nformat = \"rss\"\n"
                              "languages = [1, 2]\ncategories = [\"x\", true]\n", "f.toml");
  std::string t = errors_text(r);
  EXPECT_NE(t.find("f.toml:5: column 'languages': "), std::string::npos) << t;
  EXPECT_NE(t.find("f.toml:6: column 'categories': "), std::string::npos) << t;
  EXPECT_TRUE(r.outlets.empty());
}

// For outlets made in code (engine::add_outlet): the same checks, one message.
TEST(Outlets, PrepareOutletChecksAConfigMadeInCode) {
  outlet_config o;
  o.id = "x";
  o.url = "http://127.0.0.1:8080/hook";
  EXPECT_EQ(prepare_outlet(o), "");
  EXPECT_EQ(o.endpoint.port, 8080);
  EXPECT_EQ(o.endpoint.target, "/hook");
  o.url = "http://a:secret@127.0.0.1:99999/";
  std::string e = prepare_outlet(o);
  EXPECT_NE(e, "");
  EXPECT_EQ(e.find("secret"), std::string::npos) << e;
  o.url = "http://127.0.0.1/";
  o.headers = {{"Content-Length", "5"}};
  EXPECT_NE(prepare_outlet(o), "");
}

// A configuration copied from a loaded one keeps its parsed parts only while its URL is the
// one they came from: a URL changed in code is parsed again, never sent to the old address.
TEST(Outlets, PrepareOutletParsesAChangedUrlAgain) {
  auto r = parse_outlets_csv("id,url,format\na,http://127.0.0.1:8080/one,webhook\n", "o.csv");
  ASSERT_TRUE(r.ok());
  outlet_config o = r.outlets[0];
  EXPECT_EQ(prepare_outlet(o), "");  // the same URL: the parts stay
  EXPECT_EQ(o.endpoint.port, 8080);
  EXPECT_EQ(o.endpoint.target, "/one");
  o.url = "http://127.0.0.1:9090/two?x=1";
  EXPECT_EQ(prepare_outlet(o), "");
  EXPECT_EQ(o.endpoint.port, 9090);
  EXPECT_EQ(o.endpoint.target, "/two?x=1");
  o.url = "ftp://127.0.0.1/";  // and a bad one is refused, whatever parts it kept
  EXPECT_NE(prepare_outlet(o), "");
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
