#pragma once
// An incremental HTTP/1.1 response parser for the plain-HTTP client: bytes in, as they arrive,
// split anywhere; out come the status, the few headers delivery needs (Retry-After,
// Location), whether the connection may be kept, and where the response ends. Bodies are
// skipped, not kept: an outlet's answer matters by its status. Pure logic, no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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
  void reset();

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& retry_after() const { return retry_after_; }
  const std::string& location() const { return location_; }
  const std::string& error() const { return error_; }  // what was wrong, on `error`
  bool started() const { return started_; }            // any byte of a response seen

  static constexpr std::size_t max_head_bytes = 64 * 1024;
  static constexpr std::size_t max_line_bytes = 8 * 1024;  // a chunk-size or trailer line

private:
  enum class phase { head, body_length, chunk_size, chunk_data, chunk_data_end, trailer, body_until_close, done };
  result fail(std::string why);
  result parse_head();  // `head_` holds a whole head, CRLF CRLF included
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
};

}  // namespace syndic::engine::http
