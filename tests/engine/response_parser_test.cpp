// The plain-HTTP client's response parser: framing, keep-alive and the headers delivery uses,
// with every response also fed split at every byte position.

#include "http/response_parser.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace syndic::engine::http {
namespace {

struct parsed {
  response_parser::result r = response_parser::result::need_more;
  int status = 0;
  bool keep_alive = false;
  std::size_t used = 0;  // bytes of the input that belonged to the response
  std::string retry_after, location, error;
};

// Feeds `text` in pieces of at most `step` bytes (0: all at once), then EOF if `eof`.
parsed run(std::string_view text, std::size_t step = 0, bool eof = false) {
  response_parser p;
  parsed out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t n = step ? std::min(step, text.size() - pos) : text.size() - pos;
    std::size_t used = 0;
    out.r = p.feed(text.substr(pos, n), used);
    pos += used;
    if (out.r != response_parser::result::need_more) break;
    if (used < n) {  // a parser that needs more consumes everything it was given
      ADD_FAILURE() << "need_more but used " << used << " of " << n;
      break;
    }
  }
  if (out.r == response_parser::result::need_more && eof) out.r = p.feed_eof();
  out.used = pos;
  out.status = p.status();
  out.keep_alive = p.keep_alive();
  out.retry_after = p.retry_after();
  out.location = p.location();
  out.error = p.error();
  return out;
}

// The same outcome whatever the split: all at once, byte by byte, and every two-piece cut.
parsed run_all_splits(std::string_view text, bool eof = false) {
  parsed whole = run(text, 0, eof);
  for (std::size_t step : {1u, 2u, 3u, 7u}) {
    parsed s = run(text, step, eof);
    EXPECT_EQ(s.r, whole.r) << "step " << step;
    EXPECT_EQ(s.status, whole.status) << "step " << step;
    EXPECT_EQ(s.keep_alive, whole.keep_alive) << "step " << step;
    EXPECT_EQ(s.used, whole.used) << "step " << step;
  }
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    response_parser p;
    std::size_t used = 0;
    auto r = p.feed(text.substr(0, cut), used);
    std::size_t total = used;
    if (r == response_parser::result::need_more) {
      r = p.feed(text.substr(cut), used);
      total += used;
    }
    if (r == response_parser::result::need_more && eof) r = p.feed_eof();
    EXPECT_EQ(r, whole.r) << "cut at " << cut;
    EXPECT_EQ(p.status(), whole.status) << "cut at " << cut;
    EXPECT_EQ(total, whole.used) << "cut at " << cut;
  }
  return whole;
}

using R = response_parser::result;

TEST(ResponseParser, NoContentKeepsTheConnection) {
  std::string text = "HTTP/1.1 204 No Content\r\nServer: nginx\r\nDate: x\r\n\r\n";
  auto p = run_all_splits(text);
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 204);
  EXPECT_TRUE(p.keep_alive);
  EXPECT_EQ(p.used, text.size());
}

TEST(ResponseParser, ContentLengthBodyIsSkippedAndWhatFollowsIsLeft) {
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  auto p = run_all_splits(resp + "HTTP/1.1 204 X\r\n\r\n");
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.used, resp.size());
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  std::string resp =
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
  auto p = run_all_splits(resp);
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.retry_after, "7");
  EXPECT_TRUE(p.keep_alive);
  EXPECT_EQ(p.used, resp.size());
}

TEST(ResponseParser, InterimResponsesAreSkipped) {
  auto p = run_all_splits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                          "HTTP/1.1 308 Permanent Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 308);
  EXPECT_EQ(p.location, "/new");
}

TEST(ResponseParser, ConnectionCloseAndHttp10) {
  EXPECT_FALSE(run("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(run("HTTP/1.0 204 No Content\r\n\r\n").keep_alive);
  EXPECT_TRUE(run("HTTP/1.0 204 No Content\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(run("HTTP/1.1 204 No Content\r\nconnection: upgrade, CLOSE\r\n\r\n").keep_alive);
}

TEST(ResponseParser, BodyUntilCloseEndsAtEof) {
  auto p = run_all_splits("HTTP/1.1 200 OK\r\n\r\nsome body", true);
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 200);
  EXPECT_FALSE(p.keep_alive);
}

TEST(ResponseParser, BareLineFeedsAreAccepted) {
  auto p = run_all_splits("HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok");
  EXPECT_EQ(p.r, R::done);
  EXPECT_EQ(p.status, 202);
}

TEST(ResponseParser, BothFramingsMeanChunkedThenClose) {
  auto p = run("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  EXPECT_EQ(p.r, R::done);
  EXPECT_FALSE(p.keep_alive);
}

TEST(ResponseParser, MalformedResponsesAreErrorsThatSayWhat) {
  struct bad { const char* text; const char* says; };
  for (auto [text, says] : {
           bad{"HTTP/2 200 OK\r\n\r\n", "bad status line"},
           bad{"SSH-2.0-OpenSSH_9.2\r\n\r\n", "bad status line"},
           bad{"HTTP/1.1 2x4 Odd\r\n\r\n", "bad status code"},
           bad{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
           bad{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "bad Content-Length"},
           bad{"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"},
           bad{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
           bad{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n", "chunk not followed by CRLF"},
           bad{"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"},
       }) {
    auto p = run(text);
    EXPECT_EQ(p.r, R::error) << text;
    EXPECT_NE(p.error.find(says), std::string::npos) << text << " -> " << p.error;
    EXPECT_FALSE(p.keep_alive) << text;
  }
}

TEST(ResponseParser, TruncatedResponsesFailAtEof) {
  for (const char* text : {"", "HTTP/1.1 200 OK\r\nContent-Le", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"}) {
    auto p = run(text, 0, true);
    EXPECT_EQ(p.r, R::error) << text;
  }
}

TEST(ResponseParser, OversizedHeadIsRefused) {
  std::string text = "HTTP/1.1 200 OK\r\n";
  while (text.size() <= response_parser::max_head_bytes) text += "X-Filler: " + std::string(100, 'f') + "\r\n";
  auto p = run(text, 1000);
  EXPECT_EQ(p.r, R::error);
  EXPECT_NE(p.error.find("64 KiB"), std::string::npos);
}

// The 8 KiB limit on chunk-size and trailer lines holds however the line arrives: whole in one
// read or in pieces (it was checked only for a line still incomplete at the end of a read).
TEST(ResponseParser, LongChunkLinesAreRefusedWhateverTheSplit) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string size_line = std::string(response_parser::max_line_bytes + 100, '0') + "5\r\nhello\r\n0\r\n\r\n";
  std::string trailer = "0\r\nX-T: " + std::string(response_parser::max_line_bytes + 100, 't') + "\r\n\r\n";
  for (const std::string& body : {size_line, trailer}) {
    for (std::size_t step : {0u, 1000u}) {
      auto p = run(head + body, step);
      EXPECT_EQ(p.r, R::error) << "step " << step;
      EXPECT_NE(p.error.find("too long"), std::string::npos) << p.error;
    }
  }
}

// Error messages quote what the server sent; they reach logs and terminals, so a hostile
// answer's control bytes (an ANSI escape here) and non-ASCII are written as \xNN.
TEST(ResponseParser, ErrorsQuoteServerBytesEscaped) {
  auto p = run("HTTP/1.1 2\x1b[31m0 \xff\r\n\r\n");
  EXPECT_EQ(p.r, R::error);
  EXPECT_EQ(p.error.find('\x1b'), std::string::npos) << p.error;
  EXPECT_EQ(p.error.find('\xff'), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("\\x1b"), std::string::npos) << p.error;
}

TEST(ResponseParser, ResetAllowsTheNextResponse) {
  response_parser p;
  std::size_t used = 0;
  ASSERT_EQ(p.feed("HTTP/1.1 503 X\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n", used), R::done);
  p.reset();
  ASSERT_EQ(p.feed("HTTP/1.1 204 X\r\n\r\n", used), R::done);
  EXPECT_EQ(p.status(), 204);
  EXPECT_EQ(p.retry_after(), "");
}

}  // namespace
}  // namespace syndic::engine::http
