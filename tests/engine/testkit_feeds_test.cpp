// `syndic feeds` (testkit/feeds.hpp) as a poller sees it: real servers on 127.0.0.1 fetched
// with the project's HTTP client. The list in /feeds.csv, conditional GET (ETag and
// If-Modified-Since), gzip, every fault, the stats a politeness test reads, and WebSub: an
// external hub pinged, and the built-in hub's subscribe, verify and signed deliveries.

#include "http/client.hpp"
#include "http/content_coding.hpp"
#include "http/server.hpp"
#include "testkit/feeds_http.hpp"
#include "testkit/feeds_plan.hpp"

#include <syndic/engine/signer.hpp>
#include <syndic/formats/dates.hpp>
#include <syndic/formats/parse.hpp>
#include <syndic/testkit/feeds.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace syndic::testkit {
namespace {

using namespace std::chrono_literals;
namespace http = engine::http;

// One GET (or POST) through the project's client, waited for (bounded by the request's timeout).
struct fetcher {
  http::client client;
  http::response get(const std::string& url, std::vector<std::string> headers = {}, bool decode = false) {
    http::request r;
    r.method = http::method::get;
    r.url = url;
    r.headers = std::move(headers);
    r.max_response_body = 32u << 20;
    r.keep_headers = true;
    r.decode_content = decode;
    r.timeout = 10s;
    return send(std::move(r));
  }
  http::response post(const std::string& url, std::string body, std::string type = "application/x-www-form-urlencoded") {
    http::request r;
    r.method = http::method::post;
    r.url = url;
    r.body = std::make_shared<const std::string>(std::move(body));
    r.headers.push_back("Content-Type: " + type);
    r.max_response_body = 1 << 20;
    r.timeout = 10s;
    return send(std::move(r));
  }
  http::response send(http::request r) {
    auto p = std::make_shared<std::promise<http::response>>();
    auto f = p->get_future();
    client.send(std::move(r), [p](http::response resp) { p->set_value(std::move(resp)); });
    return f.get();  // the client calls back once, at the latest after the timeout
  }
};

std::string header(const http::response& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return h.value;
  return {};
}

// Polls `what` every 20 ms until it holds, for at most `limit`.
std::string enc(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

template <class F>
bool eventually(F what, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (what()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return what();
}

struct served {
  feeds server;
  std::string base;
  explicit served(feeds_options o) : server(std::move(o)) {
    server.start();
    base = "http://127.0.0.1:" + std::to_string(server.ports().front());
  }
};

feeds_options quiet(std::size_t count) {
  feeds_options o;
  o.count = count;
  o.rate = 0;
  o.initial = count * 3;
  return o;
}

TEST(TestkitFeeds, CsvListsEveryFeedInThePollersFormat) {
  auto o = quiet(6);
  o.fault_feeds[4] = feed_fault::gone;
  served s(o);
  fetcher f;
  auto r = f.get(s.base + "/feeds.csv");
  ASSERT_EQ(r.status, 200);
  std::string expected = "id,url,channel\n";
  const char* ext[] = {"rss", "atom", "json"};
  for (int i = 0; i < 6; ++i)
    expected += "feed-" + std::to_string(i) + (i == 4 ? "-gone" : "") + "," + s.base + "/feeds/" + std::to_string(i) + "." +
                ext[i % 3] + ",feeds\n";
  EXPECT_EQ(r.body, expected);
  auto full = f.get(s.base + "/feeds.csv?columns=id,format,fault");
  EXPECT_NE(full.body.find("feed-4-gone,atom,gone\n"), std::string::npos) << full.body;
  EXPECT_EQ(f.get(s.base + "/feeds.csv?columns=id,password").status, 400);
}

TEST(TestkitFeeds, EachFormatRendersAValidFeedWithItsItems) {
  auto o = quiet(3);
  o.items = 2;  // 3 made per feed, 2 kept
  served s(o);
  fetcher f;
  for (const auto& e : s.server.list()) {
    auto r = f.get(e.url);
    ASSERT_EQ(r.status, 200) << e.url;
    auto doc = formats::parse(r.body);
    ASSERT_TRUE(doc.value) << e.url;
    ASSERT_EQ(doc.value->items.size(), 2u) << e.url;
    // Newest first: items k = 3N+i ... of feed i; ids stable and unique.
    EXPECT_EQ(doc.value->items[0].id, "urn:syndic:feeds:" + std::to_string(e.index) + ":" + std::to_string(6 + e.index));
    auto created = created_items(r.body);
    ASSERT_EQ(created.size(), 2u) << r.body.substr(0, 600);
    EXPECT_EQ(created[0].feed, e.index);
    EXPECT_EQ(created[0].k, 6 + e.index);
    EXPECT_GT(created[0].created_ms, 1'600'000'000'000);
    EXPECT_EQ(doc.value->self_link, e.url);
  }
}

TEST(TestkitFeeds, FeedsSayHowOftenToPoll) {
  auto o = quiet(3);
  o.ttl_minutes = 15;
  o.update_period_seconds = 3600;
  served s(o);
  fetcher f;
  auto rss = formats::parse(f.get(s.server.list()[0].url).body);
  ASSERT_TRUE(rss.value);
  EXPECT_EQ(rss.value->ttl_minutes, 15u);
  EXPECT_EQ(rss.value->update_period_seconds, 3600u);
  auto json = formats::parse(f.get(s.server.list()[2].url).body);
  ASSERT_TRUE(json.value);
  EXPECT_EQ(json.value->ttl_minutes, 15u);
}

TEST(TestkitFeeds, ConditionalGetAnswers304) {
  served s(quiet(1));
  fetcher f;
  std::string url = s.server.list()[0].url;
  auto first = f.get(url);
  ASSERT_EQ(first.status, 200);
  ASSERT_FALSE(first.etag.empty());
  ASSERT_FALSE(first.last_modified.empty());
  EXPECT_EQ(first.etag.front(), '"');  // strong
  auto date = formats::parse_date(header(first, "Date"));
  ASSERT_TRUE(date) << header(first, "Date");
  EXPECT_GE(date->unix_ms / 1000, formats::parse_date(first.last_modified)->unix_ms / 1000);
  auto again = f.get(url, {"If-None-Match: " + first.etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.etag, first.etag);
  EXPECT_EQ(f.get(url, {"If-None-Match: \"other\", W/" + first.etag}).status, 304);
  EXPECT_EQ(f.get(url, {"If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(f.get(url, {"If-Modified-Since: " + first.last_modified}).status, 304);
  EXPECT_EQ(f.get(url, {"If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"}).status, 200);
  // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  EXPECT_EQ(f.get(url, {"If-None-Match: \"other\"", "If-Modified-Since: " + first.last_modified}).status, 200);
  EXPECT_EQ(s.server.stats().not_modified, 3u);
}

TEST(TestkitFeeds, WithoutValidatorsEveryGetIsA200) {
  auto o = quiet(1);
  o.etag = false;
  served only_dates(o);
  fetcher f;
  std::string url = only_dates.server.list()[0].url;
  auto first = f.get(url);
  EXPECT_TRUE(first.etag.empty());
  ASSERT_FALSE(first.last_modified.empty());
  EXPECT_EQ(f.get(url, {"If-None-Match: *"}).status, 200);  // ignored: If-Modified-Since is all it honours
  EXPECT_EQ(f.get(url, {"If-None-Match: *", "If-Modified-Since: " + first.last_modified}).status, 304);
  o.last_modified = false;
  served none(o);
  url = none.server.list()[0].url;
  auto plain = f.get(url);
  EXPECT_TRUE(plain.last_modified.empty());
  auto again = f.get(url, {"If-Modified-Since: " + first.last_modified});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, plain.body);  // the same bytes: a poller's unchanged-body path
}

TEST(TestkitFeeds, NewItemsMakeANewVersion) {
  feeds_options o;
  o.count = 2;
  o.rate = 100;
  served s(o);
  fetcher f;
  std::string url = s.server.list()[1].url;
  auto first = f.get(url);
  ASSERT_EQ(first.status, 200);
  http::response later;
  ASSERT_TRUE(eventually([&] {
    later = f.get(url, {"If-None-Match: " + first.etag});
    return later.status == 200;
  }));
  EXPECT_NE(later.etag, first.etag);
  auto doc = formats::parse(later.body);
  ASSERT_TRUE(doc.value);
  ASSERT_FALSE(doc.value->items.empty());
  // Item k goes to feed k mod 2: feed 1 has odd k only.
  for (const auto& it : doc.value->items) EXPECT_EQ(it.id.back() % 2, 1) << it.id;
  EXPECT_GT(s.server.stats().items, 0u);
}

TEST(TestkitFeeds, GzipWhenAcceptedWithItsOwnETag) {
  auto o = quiet(1);
  o.max_age = 30;
  served s(o);
  fetcher f;
  std::string url = s.server.list()[0].url;
  auto plain = f.get(url);
  auto gz = f.get(url, {"Accept-Encoding: gzip, deflate"});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.content_encoding, "gzip");
  EXPECT_NE(gz.etag, plain.etag);  // another representation, another strong tag
  EXPECT_EQ(header(gz, "Vary"), "Accept-Encoding");
  EXPECT_EQ(gz.cache_control, "max-age=30");
  std::string body = gz.body, detail;
  ASSERT_EQ(http::decode_content("gzip", body, 1 << 20, detail), http::transport_error::none) << detail;
  EXPECT_EQ(body, plain.body);
  EXPECT_LT(gz.body.size(), plain.body.size());
  EXPECT_EQ(f.get(url, {"Accept-Encoding: gzip", "If-None-Match: " + gz.etag}).status, 304);
  EXPECT_EQ(f.get(url, {"Accept-Encoding: gzip;q=0, identity"}).content_encoding, "");
  EXPECT_EQ(f.get(url, {"Accept-Encoding: *"}).content_encoding, "gzip");
  auto decoded = f.get(url, {}, true);  // the client's own Accept-Encoding, decoded
  EXPECT_EQ(decoded.body, plain.body);

  auto no = quiet(1);
  no.gzip = false;
  served off(no);
  auto never = f.get(off.server.list()[0].url, {"Accept-Encoding: gzip"});
  EXPECT_EQ(never.status, 200);
  EXPECT_EQ(never.content_encoding, "");
  EXPECT_EQ(never.cache_control, "");
}

TEST(TestkitFeeds, EveryFaultAnswersAsNamed) {
  auto o = quiet(16);
  o.format = feeds_format::rss;
  o.retry_after = std::chrono::seconds(7);
  o.slow = 50ms;
  feed_fault faults[] = {feed_fault::none,      feed_fault::gone,        feed_fault::error,       feed_fault::unavailable,
                         feed_fault::throttle,  feed_fault::slow,        feed_fault::moved,       feed_fault::found,
                         feed_fault::redirect308, feed_fault::redirect307, feed_fault::loop,      feed_fault::malformed,
                         feed_fault::hostile,   feed_fault::hostile,     feed_fault::hostile,     feed_fault::hostile};
  for (std::size_t i = 0; i < 16; ++i) o.fault_feeds[i] = faults[i];
  served s(o);
  fetcher f;
  auto list = s.server.list();
  auto url = [&](int i) { return list[static_cast<std::size_t>(i)].url; };
  auto path = [&](std::string_view dir, int i) { return s.base + "/feeds/" + std::string(dir) + std::to_string(i) + ".rss"; };
  EXPECT_EQ(f.get(url(0)).status, 200);
  EXPECT_EQ(f.get(url(1)).status, 410);
  EXPECT_EQ(f.get(url(2)).status, 500);
  auto unavailable = f.get(url(3));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.retry_after, "7");
  auto throttle = f.get(url(4));
  EXPECT_EQ(throttle.status, 429);
  EXPECT_EQ(throttle.retry_after, "7");
  auto slow = f.get(url(5));
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.elapsed, 50ms);  // the delay is the fault itself, a lower bound
  auto moved = f.get(url(6));
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.location, path("moved/", 6));
  auto at_new = f.get(moved.location);
  ASSERT_EQ(at_new.status, 200);
  EXPECT_EQ(formats::parse(at_new.body).value->self_link, path("moved/", 6));  // the feed says where it lives now
  auto found = f.get(url(7));
  EXPECT_EQ(found.status, 302);
  EXPECT_EQ(found.location, path("temp/", 7));
  EXPECT_EQ(f.get(found.location).status, 200);
  EXPECT_EQ(f.get(url(8)).status, 308);
  EXPECT_EQ(f.get(url(8)).location, path("moved/", 8));
  EXPECT_EQ(f.get(url(9)).status, 307);
  EXPECT_EQ(f.get(url(9)).location, path("temp/", 9));
  auto loop = f.get(url(10));
  EXPECT_EQ(loop.status, 302);
  auto back = f.get(loop.location);
  EXPECT_EQ(back.status, 302);
  EXPECT_EQ(back.location, url(10));
  auto malformed = f.get(url(11));
  EXPECT_EQ(malformed.status, 200);
  auto broken = formats::parse(malformed.body);
  EXPECT_FALSE(broken.diagnostics.empty());  // a truncated document says so
  // Hostile shapes in turn: deep, entities, prefixes, huge; each bounded.
  auto deep = f.get(url(12));
  EXPECT_EQ(deep.status, 200);
  EXPECT_NE(deep.body.find("<d><d><d><d>"), std::string::npos);
  EXPECT_LT(deep.body.size(), 2u << 20);
  auto entities = f.get(url(13));
  EXPECT_NE(entities.body.find("<!ENTITY a9"), std::string::npos);
  EXPECT_LT(entities.body.size(), 4096u);
  auto prefixes = f.get(url(14));
  EXPECT_NE(prefixes.body.find("<x:a/><x:a/>"), std::string::npos);
  auto huge = f.get(url(15));
  EXPECT_EQ(huge.status, 200);
  EXPECT_GT(huge.body.size(), 8'000'000u);
  EXPECT_LT(huge.body.size(), 12'000'000u);
  EXPECT_EQ(list[12].id, "feed-12-hostile-deep");
  EXPECT_EQ(list[15].id, "feed-15-hostile-huge");
  EXPECT_EQ(list[6].id, "feed-6-moved");
  // Wrong extension, unknown feed, other methods.
  EXPECT_EQ(f.get(s.base + "/feeds/0.atom").status, 404);
  EXPECT_EQ(f.get(s.base + "/feeds/99.rss").status, 404);
  EXPECT_EQ(f.post(url(0), "x").status, 405);
  auto st = s.server.stats();
  EXPECT_EQ(st.statuses[410], 1u);
  EXPECT_EQ(st.statuses[429], 1u);
}

TEST(TestkitFeeds, FaultSharesGiveExactCountsAndBadSpecsSaySo) {
  std::string error;
  auto shares = parse_fault_shares("gone=10%,error=5,hostile=2.5%", error);
  ASSERT_TRUE(shares) << error;
  auto faults = detail::assign_faults(200, *shares, {});
  auto count = [&](feed_fault k) { return std::count(faults.begin(), faults.end(), k); };
  EXPECT_EQ(count(feed_fault::gone), 20);
  EXPECT_EQ(count(feed_fault::error), 10);
  EXPECT_EQ(count(feed_fault::hostile), 5);
  EXPECT_EQ(count(feed_fault::none), 165);
  EXPECT_EQ(faults, detail::assign_faults(200, *shares, {}));  // the same in every run
  EXPECT_EQ(detail::assign_faults(200, *shares, {{3, feed_fault::loop}})[3], feed_fault::loop);
  for (const char* bad : {"gone", "gone=x", "gone=101%", "fire=5%", "gone=60%,error=50%", "none=5%", "gone=-1"})
    EXPECT_FALSE(parse_fault_shares(bad, error)) << bad;
}

TEST(TestkitFeeds, StatsShowConcurrencyAndGapsPerListener) {
  auto o = quiet(4);
  o.listen = {{"127.0.0.1", 0}, {"127.0.0.2", 0}};
  o.latency = latency_distribution(std::chrono::milliseconds(500));
  feeds srv(o);
  srv.start();
  auto list = srv.list();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_NE(list[1].url.find("127.0.0.2"), std::string::npos);
  fetcher f;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { f.get(list[0].url); });
  for (auto& t : threads) t.join();
  f.get(list[1].url);
  auto st = srv.stats();
  ASSERT_EQ(st.listeners.size(), 2u);
  EXPECT_EQ(st.listeners[0].requests, 3u);
  EXPECT_EQ(st.listeners[1].requests, 1u);
  // Three requests answered after 500 ms each, sent at once: all three were in flight together.
  EXPECT_EQ(st.listeners[0].max_in_flight, 3u);
  EXPECT_GE(st.listeners[0].min_gap_us, 0);
  EXPECT_EQ(st.listeners[1].min_gap_us, -1);  // one arrival: no gap yet
  EXPECT_NE(st.to_json().find("\"max_in_flight\":3"), std::string::npos);
  // A fresh window: one request after the reset, one in flight at most, no gap yet.
  EXPECT_EQ(f.post("http://" + st.listeners[0].address + "/stats/reset", "").status, 204);
  f.get(list[0].url);
  st = srv.stats();
  EXPECT_EQ(st.requests, 1u);
  EXPECT_EQ(st.listeners[0].requests, 1u);
  EXPECT_EQ(st.listeners[0].max_in_flight, 1u);
  EXPECT_EQ(st.listeners[0].min_gap_us, -1);
  EXPECT_EQ(st.statuses[200], 1u);
}

// A subscriber's callback: echoes challenges (when asked to) and keeps what hubs POST.
struct subscriber {
  boost::asio::io_context io;
  std::unique_ptr<http::server> server;
  std::thread thread;
  std::mutex mutex;
  std::vector<http::server_request> posts;
  std::vector<std::string> verifications;  // the queries of the hub's GETs
  bool echo = true;
  std::string url;

  subscriber() {
    http::server_options so;
    so.listen.push_back({"127.0.0.1", 0});
    server = std::make_unique<http::server>(std::vector<boost::asio::io_context*>{&io}, so,
                                            http::synchronous([this](const http::server_request& r) {
                                              std::lock_guard lock(mutex);
                                              if (r.method == "POST") {
                                                posts.push_back(r);
                                                return http::server_response(204);
                                              }
                                              std::string q(r.query());
                                              verifications.push_back(q);
                                              auto at = q.find("hub.challenge=");
                                              std::string c = at == std::string::npos ? "" : q.substr(at + 14, q.find('&', at) - at - 14);
                                              return echo ? http::server_response(200, c) : http::server_response(200, "no");
                                            }));
    server->start();
    url = "http://127.0.0.1:" + std::to_string(server->ports().front()) + "/cb";
    thread = std::thread([this] { io.run(); });
  }
  ~subscriber() {
    server->stop(0ms);
    io.stop();
    thread.join();
  }
  std::vector<std::string> verified() {
    std::lock_guard lock(mutex);
    return verifications;
  }
  std::vector<http::server_request> received() {
    std::lock_guard lock(mutex);
    return posts;
  }
};

TEST(TestkitFeeds, BuiltInHubVerifiesIntentAndDeliversSignedBodies) {
  feeds_options o;
  o.count = 1;
  o.rate = 50;
  o.format = feeds_format::atom;
  o.hub = "self";
  o.hub_bad_signature = 50;
  served s(o);
  subscriber sub;
  fetcher f;
  std::string topic = s.server.list()[0].url;
  // The feed advertises the hub: Link header and atom:link rel="hub".
  auto feed = f.get(topic);
  EXPECT_EQ(header(feed, "Link"), "<" + s.base + "/hub>; rel=\"hub\", <" + topic + ">; rel=\"self\"");
  EXPECT_EQ(formats::parse(feed.body).value->hubs, std::vector<std::string>{s.base + "/hub"});

  auto subscribe = [&](const std::string& callback, const std::string& mode = "subscribe") {
    return f.post(s.base + "/hub", "hub.mode=" + mode + "&hub.topic=" + enc(topic) + "&hub.callback=" + enc(callback) +
                                       "&hub.secret=s3cret&hub.lease_seconds=600")
        .status;
  };
  ASSERT_EQ(subscribe(sub.url), 202);
  ASSERT_TRUE(eventually([&] { return f.get(s.base + "/hub/subscriptions").body.find("\"state\":\"active\"") != std::string::npos; }));
  ASSERT_TRUE(eventually([&] { return sub.received().size() >= 6; }));
  auto posts = sub.received();
  std::size_t good = 0, bad = 0;
  for (const auto& p : posts) {
    EXPECT_EQ(p.header("Link"), "<" + s.base + "/hub>; rel=\"hub\", <" + topic + ">; rel=\"self\"");
    EXPECT_EQ(p.header("Content-Type"), "application/atom+xml; charset=utf-8");
    auto doc = formats::parse(p.body);
    ASSERT_TRUE(doc.value);  // the feed's whole body
    EXPECT_FALSE(doc.value->items.empty());
    (engine::verify_websub_signature("s3cret", p.body, p.header("X-Hub-Signature")) ? good : bad) += 1;
  }
  // 50%: every second delivery is signed wrongly, the others rightly.
  EXPECT_EQ(bad, posts.size() / 2);
  EXPECT_EQ(good, posts.size() - posts.size() / 2);
  ASSERT_EQ(sub.verified().size(), 1u);
  EXPECT_EQ(sub.verified()[0].find("hub.mode=subscribe&hub.topic=" + enc(topic) + "&hub.challenge="), 0u) << sub.verified()[0];
  EXPECT_NE(sub.verified()[0].find("&hub.lease_seconds=600"), std::string::npos) << sub.verified()[0];
  auto listing = f.get(s.base + "/hub/subscriptions").body;
  EXPECT_NE(listing.find("\"callback\":\"" + sub.url + "\""), std::string::npos) << listing;
  EXPECT_NE(listing.find("\"last_status\":204"), std::string::npos) << listing;
  EXPECT_NE(listing.find("\"lease_seconds\":600"), std::string::npos) << listing;

  // A callback that does not echo the challenge never becomes active.
  subscriber deaf;
  deaf.echo = false;
  ASSERT_EQ(subscribe(deaf.url), 202);
  ASSERT_TRUE(eventually([&] { return f.get(s.base + "/hub/subscriptions").body.find("\"state\":\"unverified\"") != std::string::npos; }));
  EXPECT_TRUE(deaf.received().empty());
  // Unsubscribing (verified) stops the deliveries.
  ASSERT_EQ(subscribe(sub.url, "unsubscribe"), 202);
  ASSERT_TRUE(eventually([&] { return f.get(s.base + "/hub/subscriptions").body.find("\"state\":\"unsubscribed\"") != std::string::npos; }));
  // Bad requests.
  EXPECT_EQ(f.post(s.base + "/hub", "hub.mode=subscribe&hub.callback=" + enc(sub.url) + "&hub.topic=http%3A%2F%2Fx%2Fnope").status, 404);
  EXPECT_EQ(f.post(s.base + "/hub", "hub.mode=dance").status, 400);
  EXPECT_EQ(f.post(s.base + "/hub", "hub.mode=subscribe", "text/plain").status, 400);
}

TEST(TestkitFeeds, BuiltInHubLeasesLapseUnlessRenewed) {
  feeds_options o;
  o.count = 1;
  o.rate = 20;
  o.hub = "self";
  served s(o);
  subscriber sub;
  fetcher f;
  std::string topic = s.server.list()[0].url;
  auto subscribe = [&] {
    return f.post(s.base + "/hub", "hub.mode=subscribe&hub.topic=" + enc(topic) + "&hub.callback=" + enc(sub.url) +
                                       "&hub.lease_seconds=1")
        .status;
  };
  ASSERT_EQ(subscribe(), 202);
  ASSERT_TRUE(eventually([&] { return s.server.subscriptions_json().find("\"state\":\"active\"") != std::string::npos; }));
  ASSERT_TRUE(eventually([&] { return s.server.subscriptions_json().find("\"state\":\"expired\"") != std::string::npos; }, 5s));
  std::this_thread::sleep_for(100ms);  // a delivery sent just before the lease lapsed lands
  auto delivered = sub.received().size();
  std::this_thread::sleep_for(200ms);  // several items later: nothing more to a lapsed lease
  EXPECT_EQ(sub.received().size(), delivered);
  EXPECT_TRUE(sub.received().empty() || sub.received().back().header("X-Hub-Signature").empty());  // no secret: unsigned
  ASSERT_EQ(subscribe(), 202);  // renewed
  ASSERT_TRUE(eventually([&] { return sub.received().size() > delivered; }));
}

TEST(TestkitFeeds, ExternalHubIsAdvertisedAndPinged) {
  subscriber hub;  // plays the hub: keeps the POSTed pings
  feeds_options o;
  o.count = 2;
  o.rate = 50;
  o.format = feeds_format::json;
  o.hub = hub.url;
  served s(o);
  fetcher f;
  auto list = s.server.list();
  auto feed = f.get(list[0].url);
  EXPECT_EQ(header(feed, "Link"), "<" + hub.url + ">; rel=\"hub\", <" + list[0].url + ">; rel=\"self\"");
  EXPECT_EQ(formats::parse(feed.body).value->hubs, std::vector<std::string>{hub.url});
  ASSERT_TRUE(eventually([&] { return hub.received().size() >= 2; }));
  std::set<std::string> pinged;
  for (const auto& p : hub.received()) {
    EXPECT_EQ(p.header("Content-Type"), "application/x-www-form-urlencoded");
    pinged.insert(p.body);
  }
  EXPECT_TRUE(pinged.count("hub.mode=publish&hub.url=" + enc(list[0].url))) << *pinged.begin();
  EXPECT_TRUE(pinged.count("hub.mode=publish&hub.url=" + enc(list[1].url)));
  EXPECT_EQ(f.post(s.base + "/hub", "hub.mode=subscribe").status, 404);  // no built-in hub then
}

TEST(TestkitFeeds, AcceptEncodingAndIfNoneMatchAreReadAsRfc9110Says) {
  using detail::accepts_gzip;
  for (const char* yes : {"gzip", "GZIP", "x-gzip", "deflate, gzip", " gzip ;q=0.5", "*", "br;q=1, *;q=0.1", "gzip;q=1.0"})
    EXPECT_TRUE(accepts_gzip(yes)) << yes;
  for (const char* no : {"", "identity", "deflate, br", "gzip;q=0", "gzip;q=0.000", "*;q=0", "*, gzip;q=0", "gzipx"})
    EXPECT_FALSE(accepts_gzip(no)) << no;
  using detail::none_match;
  EXPECT_TRUE(none_match("\"a\"", "\"a\"", "\"a-gz\""));
  EXPECT_TRUE(none_match("\"x\", W/\"a-gz\"", "\"a\"", "\"a-gz\""));
  EXPECT_TRUE(none_match("*", "\"a\"", "\"a-gz\""));
  EXPECT_FALSE(none_match("\"b\", \"a\"x", "\"a\"", "\"a-gz\""));
  EXPECT_FALSE(none_match("a", "\"a\"", "\"a-gz\""));  // unquoted: not the tag
}

TEST(TestkitFeeds, FeedPathsNameOneFeed) {
  using detail::feed_path;
  auto p = detail::parse_feed_path("/feeds/12.atom");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->index, 12u);
  EXPECT_EQ(p->ext, "atom");
  EXPECT_EQ(p->where, feed_path::kind::canonical);
  EXPECT_EQ(detail::parse_feed_path("/feeds/moved/3.rss")->where, feed_path::kind::moved);
  EXPECT_EQ(detail::parse_feed_path("/feeds/loop/3.rss")->where, feed_path::kind::loop);
  for (const char* bad : {"/feeds/", "/feeds/.rss", "/feeds/x.rss", "/feeds/-1.rss", "/feeds/3", "/feed/3.rss",
                          "/feeds/moved/temp/3.rss", "/feeds/99999999999999999999999.rss"})
    EXPECT_FALSE(detail::parse_feed_path(bad)) << bad;
}

TEST(TestkitFeeds, CreatedItemsAreFoundOncePerItemInAnyBody) {
  auto found = created_items(
      "<link>http://x/items/1/2?created_ms=1700000000123</link><a href=\"http://x/items/1/2?created_ms=1700000000123\"/>"
      "{\"url\":\"http://x/items/3/40?created_ms=5\"} /items/1/2?created_ms=x /items/9/?created_ms=1");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].feed, 1u);
  EXPECT_EQ(found[0].k, 2u);
  EXPECT_EQ(found[0].created_ms, 1700000000123);
  EXPECT_EQ(found[1].feed, 3u);
  EXPECT_EQ(found[1].k, 40u);
  EXPECT_EQ(found[1].created_ms, 5);
  EXPECT_TRUE(created_items("").empty());
}

}  // namespace
}  // namespace syndic::testkit
