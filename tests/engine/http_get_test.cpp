// GET and HEAD with response bodies kept under a cap, through both transports (h1 and
// libcurl), against loopback servers: every body framing, HEAD's Content-Length, a body over
// the cap (the connection is not reused), the validators and the bounded header list, and
// deliveries' POSTs unchanged (nothing kept) on the same handles.

#include "http/content_coding.hpp"
#include "http/curl_transport.hpp"
#include "http/h1_transport.hpp"
#include "http/response_parser.hpp"
#include "raw_http_server.hpp"
#include "tls_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <brotli/encode.h>
#include <zlib.h>

#include <memory>
#include <optional>

namespace syndic::engine::http {
namespace {

using namespace std::chrono_literals;
using testing::raw_http_server;

enum class kind { h1, curl };

// Either transport behind one call, on a test-owned io_context.
struct any_transport {
  boost::asio::io_context io;
  std::unique_ptr<h1_transport> h1;
  std::unique_ptr<curl_transport> curl;

  explicit any_transport(kind k, const std::string& ca_file = {}) {
    if (k == kind::h1) {
      h1_options o;
      o.ca_file = ca_file;
      h1 = std::make_unique<h1_transport>(io, o);
    } else {
      transport_options o;
      o.ca_file = ca_file;
      o.multi_handles = 1;
      curl = std::make_unique<curl_transport>(io, o);
    }
  }

  // Sends `r` and runs the loop until the answer (bounded: 5 s).
  response send(request r) {
    std::optional<response> got;
    auto done = [&](response resp) { got = std::move(resp); };
    if (h1) h1->post(std::move(r), done);
    else curl->post(std::move(r), done);
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!got && std::chrono::steady_clock::now() < end) {
      io.run_for(10ms);
      io.restart();
    }
    if (!got) {
      response none;
      none.error_detail = "no answer within 5 s";
      return none;
    }
    return std::move(*got);
  }
};

request get(std::uint16_t port, std::size_t cap = 1 << 20, std::string path = "/feed") {
  request r;
  r.method = method::get;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  r.timeout = 5000ms;
  r.max_response_body = cap;
  return r;
}

// The request line the server saw for the nth request (from 0).
std::string request_line(const raw_http_server& s, std::size_t nth) {
  auto all = s.requests();
  if (nth >= all.size()) return "(none)";
  return all[nth].substr(0, all[nth].find("\r\n"));
}

// Sends `text` in pieces of `piece` bytes, each its own send(): the client reads the body
// across several reads whatever the framing.
void send_in_pieces(int fd, const std::string& text, std::size_t piece) {
  for (std::size_t at = 0; at < text.size(); at += piece) raw_http_server::send_all(fd, text.substr(at, piece));
}

std::string big_body(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i) + "\n";
  s.resize(n);
  return s;
}

// The parser's side of a fetch, fed whole and cut at every byte position: the body kept is
// the same whatever the cut, for every framing; over the cap is an error at every cut.
struct fetched {
  response_parser::result r = response_parser::result::need_more;
  std::string body, etag, error;
  bool too_large = false;
  bool keep_alive = false;
  std::size_t used = 0;
};

fetched fetch_parse(std::string_view text, std::size_t cut, std::size_t cap, bool head = false, bool eof = false) {
  response_parser p;
  p.reset();
  p.expect(head, cap, false);
  fetched out;
  std::size_t pos = 0;
  for (std::string_view piece : {text.substr(0, cut), text.substr(cut)}) {
    if (piece.empty() || out.r != response_parser::result::need_more) continue;
    std::size_t used = 0;
    out.r = p.feed(piece, used);
    pos += used;
  }
  if (out.r == response_parser::result::need_more && eof) out.r = p.feed_eof();
  out.used = pos;
  out.too_large = p.too_large();
  out.error = p.error();
  out.etag = p.etag();
  out.keep_alive = p.keep_alive();
  out.body = p.take_body();
  return out;
}

void expect_body_at_every_cut(std::string_view text, const std::string& body, bool eof = false) {
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    fetched f = fetch_parse(text, cut, 1000, false, eof);
    ASSERT_EQ(f.r, response_parser::result::done) << "cut " << cut << ": " << f.error;
    EXPECT_EQ(f.body, body) << "cut " << cut;
    EXPECT_EQ(f.used, text.size()) << "cut " << cut;
  }
}

TEST(ResponseParserFetch, KeepsTheBodyOfEveryFramingAtEveryCut) {
  expect_body_at_every_cut("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", "hello world");
  expect_body_at_every_cut("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n",
                           "hello world");
  expect_body_at_every_cut("HTTP/1.1 200 OK\r\n\r\nhello world", "hello world", true);
  expect_body_at_every_cut("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok");
}

TEST(ResponseParserFetch, OverTheCapIsAnErrorAtEveryCut) {
  for (std::string_view text : {
           std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"),
           std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
           std::string_view("HTTP/1.1 200 OK\r\n\r\nhello world"),
       })
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      fetched f = fetch_parse(text, cut, 10, false, true);
      EXPECT_EQ(f.r, response_parser::result::error) << text << " cut " << cut;
      EXPECT_TRUE(f.too_large) << text << " cut " << cut;
      EXPECT_FALSE(f.keep_alive);
      EXPECT_EQ(f.error, "response body over 10 bytes");
      EXPECT_TRUE(f.body.empty());
    }
  // At the cap exactly: kept.
  fetched f = fetch_parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 0, 11);
  EXPECT_EQ(f.body, "hello world");
}

TEST(ResponseParserFetch, HeadAnswerEndsAtItsHead) {
  std::string_view text = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nETag: \"x\"\r\n\r\n";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    fetched f = fetch_parse(text, cut, 1000, true);
    ASSERT_EQ(f.r, response_parser::result::done) << cut;
    EXPECT_TRUE(f.keep_alive);
    EXPECT_TRUE(f.body.empty());
    EXPECT_EQ(f.etag, "\"x\"");
    EXPECT_EQ(f.used, text.size());
  }
}

// A delivery's parse (no expect()) keeps neither the body nor the validators; reset() after
// a fetch goes back to that.
TEST(ResponseParserFetch, DeliveriesKeepNothingExtra) {
  std::string_view text = "HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 2\r\n\r\nok";
  response_parser p;
  p.expect(false, 100, true);
  std::size_t used = 0;
  ASSERT_EQ(p.feed(text, used), response_parser::result::done);
  EXPECT_EQ(p.etag(), "\"x\"");
  EXPECT_EQ(p.take_headers().size(), 2u);
  EXPECT_EQ(p.take_body(), "ok");
  p.reset();
  ASSERT_EQ(p.feed(text, used), response_parser::result::done);
  EXPECT_EQ(p.status(), 200);
  EXPECT_TRUE(p.etag().empty());
  EXPECT_TRUE(p.take_headers().empty());
  EXPECT_TRUE(p.take_body().empty());
}

struct HttpGet : ::testing::TestWithParam<kind> {};

TEST_P(HttpGet, ContentLengthBodyAndValidators) {
  const std::string body = big_body(20'000);  // more than one read of the h1 transport's 4 KiB
  raw_http_server server([&](int fd, const std::string&, std::size_t) {
    send_in_pieces(fd,
                   "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nETag: \"v1\"\r\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
                       "Content-Type: application/rss+xml\r\nCache-Control: max-age=60\r\n\r\n" +
                       body,
                   7000);
  });
  any_transport t(GetParam());
  response r = t.send(get(server.port()));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.error, transport_error::none);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.etag, "\"v1\"");
  EXPECT_EQ(r.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
  EXPECT_EQ(r.content_type, "application/rss+xml");
  EXPECT_EQ(r.cache_control, "max-age=60");
  EXPECT_TRUE(r.headers.empty());  // not asked for
  EXPECT_EQ(request_line(server, 0), "GET /feed HTTP/1.1");
  auto sent = server.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].find("Content-Length"), std::string::npos) << sent[0];
}

TEST_P(HttpGet, ChunkedBody) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    send_in_pieces(fd,
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: W/\"2\"\r\n\r\n"
                   "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n",
                   9);
  });
  any_transport t(GetParam());
  response r = t.send(get(server.port()));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.body, "hello world!");
  EXPECT_EQ(r.etag, "W/\"2\"");
  // The connection was kept: a second GET goes on it.
  response again = t.send(get(server.port()));
  EXPECT_EQ(again.body, "hello world!") << again.error_detail;
  EXPECT_EQ(server.connections(), 1u);
}

TEST_P(HttpGet, BodyDelimitedByClose) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    send_in_pieces(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + big_body(9000), 3000);
    ::shutdown(fd, SHUT_RDWR);
  });
  any_transport t(GetParam());
  response r = t.send(get(server.port()));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.body, big_body(9000));
  EXPECT_EQ(r.content_type, "text/plain");
}

TEST_P(HttpGet, HeadReadsNoBodyWhateverContentLengthSays) {
  raw_http_server server([](int fd, const std::string& req, std::size_t) {
    if (req.starts_with("HEAD "))
      raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nETag: \"h\"\r\n\r\n");
    else
      raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
  });
  any_transport t(GetParam());
  request head = get(server.port());
  head.method = method::head;
  response r = t.send(head);
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.error, transport_error::none);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.etag, "\"h\"");
  EXPECT_EQ(request_line(server, 0), "HEAD /feed HTTP/1.1");
  // Had the 5000 bytes been expected, this answer would have been read as them.
  response next = t.send(get(server.port()));
  EXPECT_EQ(next.status, 200) << next.error_detail;
  EXPECT_EQ(next.body, "abc");
  EXPECT_EQ(server.connections(), 1u);
}

// The three framings over the cap: each fails with too_large, the connection is not used
// again, and the next request (on a new connection) works.
class HttpGetOverCap : public ::testing::TestWithParam<std::tuple<kind, int>> {};

TEST_P(HttpGetOverCap, FailsWithTooLargeAndTheNextRequestWorks) {
  const std::string body = big_body(3000);
  std::vector<std::string> answers = {
      "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + body,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3E8\r\n" + body.substr(0, 1000) + "\r\n7D0\r\n" +
          body.substr(1000) + "\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body,
  };
  const std::string& first = answers[static_cast<std::size_t>(std::get<1>(GetParam()))];
  raw_http_server server([&](int fd, const std::string&, std::size_t nth) {
    if (nth == 1) {
      send_in_pieces(fd, first, 1000);
      if (first.find("Connection: close") != std::string::npos) ::shutdown(fd, SHUT_RDWR);
    } else {
      raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  any_transport t(std::get<0>(GetParam()));
  response r = t.send(get(server.port(), 2048));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, transport_error::too_large) << r.error_detail;
  EXPECT_EQ(r.error_detail, "response body over 2048 bytes");
  EXPECT_TRUE(r.body.empty());
  response next = t.send(get(server.port(), 2048));
  EXPECT_EQ(next.status, 200) << next.error_detail;
  EXPECT_EQ(next.body, "ok");
  EXPECT_EQ(server.connections(), 2u);
}

std::string over_cap_name(const ::testing::TestParamInfo<std::tuple<kind, int>>& info) {
  static const char* framing[] = {"ContentLength", "Chunked", "UntilClose"};
  return std::string(std::get<0>(info.param) == kind::h1 ? "h1" : "curl") + "_" + framing[std::get<1>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Both, HttpGetOverCap,
                         ::testing::Combine(::testing::Values(kind::h1, kind::curl), ::testing::Values(0, 1, 2)),
                         over_cap_name);

TEST_P(HttpGet, BodyExactlyAtTheCapIsKept) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
  });
  any_transport t(GetParam());
  response r = t.send(get(server.port(), 10));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.body, "0123456789");
}

TEST_P(HttpGet, AllHeadersWhenAskedBoundedInCountAndSize) {
  std::string many;
  many += "Link: <https://hub.example/>; rel=\"hub\"\r\n";
  many += "X-Long: " + std::string(5000, 'v') + "\r\n";
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  raw_http_server server([&](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\n" + many + "Content-Length: 0\r\n\r\n");
  });
  any_transport t(GetParam());
  request r = get(server.port());
  r.keep_headers = true;
  response got = t.send(r);
  EXPECT_EQ(got.status, 200) << got.error_detail;
  ASSERT_EQ(got.headers.size(), response::max_kept_headers);
  EXPECT_EQ(got.headers[0].name, "Link");
  EXPECT_EQ(got.headers[0].value, "<https://hub.example/>; rel=\"hub\"");
  EXPECT_EQ(got.headers[1].name, "X-Long");
  EXPECT_EQ(got.headers[1].value, std::string(response::max_kept_header_bytes, 'v'));
  EXPECT_EQ(got.headers[2].name, "X-0");
  EXPECT_EQ(got.headers[2].value, "0");
}

TEST_P(HttpGet, GetSendsNoBodyEvenWhenGivenOne) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  any_transport t(GetParam());
  request r = get(server.port());
  r.body = std::make_shared<const std::string>("should not be sent");
  response got = t.send(r);
  EXPECT_EQ(got.status, 204) << got.error_detail;
  auto sent = server.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].find("should not be sent"), std::string::npos) << sent[0];
  EXPECT_EQ(sent[0].find("Content-Length"), std::string::npos) << sent[0];
}

// A transport that has fetched goes on delivering as before on the same URL (libcurl reuses
// an easy handle per URL: its method and body handling are set again each time).
TEST_P(HttpGet, PostHeadGetPostOnOneUrl) {
  raw_http_server server([](int fd, const std::string& req, std::size_t) {
    if (req.starts_with("HEAD "))
      raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nETag: \"e\"\r\n\r\n");
    else
      raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nETag: \"e\"\r\n\r\nbody");
  });
  any_transport t(GetParam());
  auto post = [&] {
    request r = get(server.port(), 0);
    r.method = method::post;
    r.body = std::make_shared<const std::string>("{\"a\":1}");
    return r;
  };
  response p1 = t.send(post());
  EXPECT_EQ(p1.status, 200) << p1.error_detail;
  EXPECT_TRUE(p1.body.empty());
  EXPECT_TRUE(p1.etag.empty());  // deliveries keep nothing they do not need
  request h = get(server.port());
  h.method = method::head;
  response h1 = t.send(h);
  EXPECT_EQ(h1.status, 200) << h1.error_detail;
  EXPECT_TRUE(h1.body.empty());
  response g = t.send(get(server.port()));
  EXPECT_EQ(g.body, "body") << g.error_detail;
  EXPECT_EQ(g.etag, "\"e\"");
  response p2 = t.send(post());
  EXPECT_EQ(p2.status, 200) << p2.error_detail;
  EXPECT_TRUE(p2.body.empty());
  auto sent = server.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(request_line(server, 0), "POST /feed HTTP/1.1");
  EXPECT_EQ(request_line(server, 1), "HEAD /feed HTTP/1.1");
  EXPECT_EQ(request_line(server, 2), "GET /feed HTTP/1.1");
  EXPECT_EQ(request_line(server, 3), "POST /feed HTTP/1.1");
  EXPECT_TRUE(sent[3].ends_with("{\"a\":1}")) << sent[3];
  EXPECT_EQ(server.connections(), 1u);
}

TEST_P(HttpGet, ANotModifiedAnswerHasNoBody) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
  });
  any_transport t(GetParam());
  request r = get(server.port());
  r.headers.push_back("If-None-Match: \"v1\"");
  response got = t.send(r);
  EXPECT_EQ(got.status, 304) << got.error_detail;
  EXPECT_TRUE(got.body.empty());
  EXPECT_EQ(got.etag, "\"v1\"");
  auto sent = server.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_NE(sent[0].find("\r\nIf-None-Match: \"v1\"\r\n"), std::string::npos) << sent[0];
}

TEST_P(HttpGet, HttpsGetWithABody) {
  testing::test_pki pki;
  testing::temp_file ca(pki.ca.cert_pem);
  testing::tls_test_server server(pki.server, testing::tls_test_server::mode::answer);
  any_transport t(GetParam(), ca.path);
  request r;
  r.method = method::get;
  r.url = "https://localhost:" + std::to_string(server.port()) + "/feed";
  r.max_response_body = 100;
  response got = t.send(r);
  EXPECT_EQ(got.status, 200) << got.error_detail;
  EXPECT_EQ(got.body, "ok");
  EXPECT_EQ(server.requests(), 1);
}

// zlib's compressors, for the servers' side: window bits 15 + 16 gzip, 15 zlib, -15 raw.
std::string compress(std::string_view in, int window_bits) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string gzip(std::string_view in) { return compress(in, 15 + 16); }

TEST(ContentCoding, GzipDeflateRawAndChains) {
  const std::string text = big_body(50'000);
  std::string detail;
  for (auto [coding, bits] : {std::pair{"gzip", 31}, {"x-gzip", 31}, {"deflate", 15}, {"deflate", -15}, {"GZIP", 31}}) {
    std::string body = compress(text, bits);
    EXPECT_EQ(decode_content(coding, body, 1 << 20, detail), transport_error::none) << coding << ": " << detail;
    EXPECT_EQ(body, text) << coding << " " << bits;
  }
  // Listed in the order applied: undone last first; identity is nothing.
  std::string twice = compress(gzip(text), 15);
  EXPECT_EQ(decode_content("identity, gzip, deflate", twice, 1 << 20, detail), transport_error::none) << detail;
  EXPECT_EQ(twice, text);
  // gzip members one after the other are one body.
  std::string members = gzip("hello ") + gzip("world");
  EXPECT_EQ(decode_content("gzip", members, 100, detail), transport_error::none) << detail;
  EXPECT_EQ(members, "hello world");
}

TEST(ContentCoding, BombsCorruptionAndUnknownCodings) {
  std::string detail;
  std::string bomb = gzip(std::string(10'000'000, '\0'));  // about 10 KB
  ASSERT_LT(bomb.size(), 20'000u);
  EXPECT_EQ(decode_content("gzip", bomb, 65'536, detail), transport_error::too_large);
  EXPECT_EQ(detail, "response body over 65536 bytes once decoded");
  EXPECT_TRUE(bomb.empty());
  std::string exact = gzip(std::string(65'536, 'a'));
  EXPECT_EQ(decode_content("gzip", exact, 65'536, detail), transport_error::none) << detail;
  EXPECT_EQ(exact.size(), 65'536u);
  std::string cut = gzip(big_body(10'000));
  cut.resize(cut.size() / 2);
  EXPECT_EQ(decode_content("gzip", cut, 1 << 20, detail), transport_error::protocol);
  EXPECT_EQ(detail, "content decoding: truncated stream");
  std::string garbage = "not gzip at all";
  EXPECT_EQ(decode_content("gzip", garbage, 1 << 20, detail), transport_error::protocol);
  EXPECT_NE(detail.find("content decoding: "), std::string::npos);
  std::string zstd = "whatever";
  EXPECT_EQ(decode_content("zstd", zstd, 1 << 20, detail), transport_error::protocol);
  EXPECT_EQ(detail, "content decoding: coding 'zstd' was not offered");
}

std::string brotli(std::string_view in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t size = out.size();
  BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, in.size(),
                        reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                        reinterpret_cast<std::uint8_t*>(out.data()));
  out.resize(size);
  return out;
}

TEST(ContentCoding, BrotliWithinTheCapTruncatedAndCorrupt) {
  const std::string text = big_body(50'000);
  std::string detail;
  std::string body = brotli(text);
  EXPECT_EQ(decode_content("br", body, 1 << 20, detail), transport_error::none) << detail;
  EXPECT_EQ(body, text);
  std::string chained = gzip(brotli(text));  // br applied first, then gzip
  EXPECT_EQ(decode_content("br, gzip", chained, 1 << 20, detail), transport_error::none) << detail;
  EXPECT_EQ(chained, text);
  std::string bomb = brotli(std::string(50'000'000, 'a'));  // a few dozen bytes
  ASSERT_LT(bomb.size(), 20'000u);
  EXPECT_EQ(decode_content("br", bomb, 65'536, detail), transport_error::too_large);
  EXPECT_TRUE(bomb.empty());
  std::string cut = brotli(text);
  cut.resize(cut.size() / 2);
  EXPECT_EQ(decode_content("br", cut, 1 << 20, detail), transport_error::protocol);
  EXPECT_EQ(detail, "content decoding: truncated brotli stream");
  std::string garbage = "\xff\xff not brotli";
  EXPECT_EQ(decode_content("br", garbage, 1 << 20, detail), transport_error::protocol);
  std::string trailing = brotli("x") + "tail";
  EXPECT_EQ(decode_content("br", trailing, 1 << 20, detail), transport_error::protocol);
}

TEST_P(HttpGet, CompressedBodiesAreDecodedUnderTheCap) {
  const std::string text = big_body(30'000);
  raw_http_server server([&](int fd, const std::string& req, std::size_t) {
    std::string target = req.substr(4, req.find(' ', 4) - 4);
    std::string body, coding = "gzip";
    if (target == "/gzip") body = gzip(text);
    else if (target == "/deflate") body = compress(text, 15), coding = "deflate";
    else if (target == "/bomb") body = gzip(std::string(5'000'000, ' '));
    else body = "corrupt!" + gzip(text);
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Encoding: " + coding + "\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  any_transport t(GetParam());
  auto fetch = [&](const std::string& path) {
    request r = get(server.port(), 100'000, path);
    r.decode_content = true;
    return t.send(r);
  };
  response g = fetch("/gzip");
  EXPECT_EQ(g.status, 200) << g.error_detail;
  EXPECT_EQ(g.body, text);
  EXPECT_EQ(g.content_encoding, "gzip");
  response d = fetch("/deflate");
  EXPECT_EQ(d.body, text) << d.error_detail;
  response bomb = fetch("/bomb");
  EXPECT_EQ(bomb.status, 0);
  EXPECT_EQ(bomb.error, transport_error::too_large) << bomb.error_detail;
  EXPECT_TRUE(bomb.body.empty());
  response bad = fetch("/corrupt");
  EXPECT_EQ(bad.status, 0);
  EXPECT_EQ(bad.error, transport_error::protocol) << bad.error_detail;
  auto sent = server.requests();
  ASSERT_FALSE(sent.empty());
  EXPECT_NE(sent[0].find("\r\nAccept-Encoding: "), std::string::npos) << sent[0];
  EXPECT_NE(sent[0].find("gzip"), std::string::npos) << sent[0];
  // Without decode_content: nothing offered, the body as sent.
  request plain = get(server.port(), 100'000, "/gzip");
  response raw = t.send(plain);
  EXPECT_EQ(raw.body, gzip(text)) << raw.error_detail;
  EXPECT_EQ(server.requests().back().find("Accept-Encoding"), std::string::npos) << server.requests().back();
}

INSTANTIATE_TEST_SUITE_P(Both, HttpGet, ::testing::Values(kind::h1, kind::curl),
                         [](const ::testing::TestParamInfo<kind>& info) {
                           return std::string(info.param == kind::h1 ? "h1" : "curl");
                         });

}  // namespace
}  // namespace syndic::engine::http
