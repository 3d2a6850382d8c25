#pragma once
// An incremental HTTP/1.1 response parser for the plain-HTTP client: bytes in, as they arrive,
// split anywhere; out come the status, the few headers delivery needs (Retry-After,
// Location), whether the connection may be kept, and where the response ends. Bodies are
// skipped, not kept: an outlet's answer matters by its status. Pure logic, no I/O.
//
// Fetches (GET, HEAD) say so with expect() after reset(): the body is then kept up to a cap,
// whatever its framing (Content-Length, chunked, until close), every header when asked, and
// the validators (ETag, Last-Modified), Content-Type and Cache-Control.

#include "http/message.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine::http {

class response_parser {
public:
  enum class result { need_more, done, error };

  // Consumes bytes from `data`; `used` says how many (on `done`, the bytes after the
  // response are not consumed: they are a protocol error for a client that pipelines
  // nothing, which the caller handles by not reusing the connection).
  result feed(std::string_view data, std::size_t& used);
  // The peer closed the connection: completes a body delimited by the close.
  result feed_eof();
  // Ready for the next response, read as a delivery's (body skipped, no header list).
  void reset();
  // After reset(), for a fetch (anything but a delivery's POST): `head_request`: the answer to a HEAD, which has no body
  // whatever its Content-Length says. `max_body` > 0: the body is kept (take_body()), and one
  // over that many bytes is an error with too_large() set. `keep_headers`: take_headers().
  void expect(bool head_request, std::size_t max_body, bool keep_headers);

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& retry_after() const { return retry_after_; }
  const std::string& location() const { return location_; }
  const std::string& etag() const { return etag_; }
  const std::string& last_modified() const { return last_modified_; }
  const std::string& content_type() const { return content_type_; }
  const std::string& cache_control() const { return cache_control_; }
  const std::string& content_encoding() const { return content_encoding_; }
  std::string take_body() { return std::move(body_); }
  std::vector<header_field> take_headers() { return std::move(headers_); }
  bool too_large() const { return too_large_; }  // the error was a body over the cap
  const std::string& error() const { return error_; }  // what was wrong, on `error`
  bool started() const { return started_; }            // any byte of a response seen

  static constexpr std::size_t max_head_bytes = 64 * 1024;
  static constexpr std::size_t max_line_bytes = 8 * 1024;  // a chunk-size or trailer line

private:
  enum class phase { head, body_length, chunk_size, chunk_data, chunk_data_end, trailer, body_until_close, done };
  result fail(std::string why);
  result over_cap();  // the body would pass max_body_
  // The head at the start of `data` (which may hold the body after it, or the head in part):
  // `end` is set past its empty line, or left at npos when `data` ends before it.
  result parse_head(std::string_view data, std::size_t& end);
  void clear_head_fields();  // the headers kept from a head
  bool take_line(std::string_view data, std::size_t& i, std::string& line);
  bool skip_body(std::string_view data, std::size_t& i);  // true once remaining_ bytes passed

  phase phase_ = phase::head;
  std::string head_;
  std::string line_;  // a chunk-size or trailer line in progress
  std::uint64_t remaining_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  bool started_ = false;
  std::string retry_after_, location_, error_;
  std::string etag_, last_modified_, content_type_, cache_control_, content_encoding_;
  bool fetch_ = false;  // expect() was called: keep the validators and the rest
  bool head_request_ = false;
  bool keep_headers_ = false;
  bool too_large_ = false;
  std::size_t max_body_ = 0;  // 0: the body is skipped
  std::string body_;
  std::vector<header_field> headers_;
};

}  // namespace syndic::engine::http
