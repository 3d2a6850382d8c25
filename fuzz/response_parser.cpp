// The HTTP/1.1 response parser, fed a byte stream in pieces. Input: one byte n (how many cut
// points, n % 16), n cut bytes (each piece is 1..256 bytes long), then the stream. The same
// stream is parsed once whole and once in pieces; both must agree on the outcome, the status,
// keep-alive, Retry-After, Location and where the response ends. After a response, the parser
// is reset and reads the rest, as on a reused connection.
//
// The first byte's high bits choose how responses are read: bit 4 as a fetch (body kept,
// every header, the validators), bit 5 as the answer to a HEAD, bit 6 with a 64-byte cap
// (else 4096). Fetches must agree on the body, the headers and too_large as well; a body is
// never over its cap.

#include "check.hpp"
#include "http/response_parser.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

using syndic::engine::http::response_parser;
namespace fz = syndic::fuzz;

struct outcome {
  response_parser::result result = response_parser::result::need_more;
  int status = 0;
  bool keep_alive = false;
  std::string retry_after, location;
  std::size_t end = 0;  // stream offset after the response (on done)
  bool too_large = false;
  std::string body, etag, last_modified, content_type, cache_control;
  std::vector<syndic::engine::http::header_field> headers;

  std::string show() const {
    static const char* names[] = {"need_more", "done", "error"};
    return std::string(names[static_cast<int>(result)]) + " status " + std::to_string(status) + " keep-alive " +
           (keep_alive ? "yes" : "no") + " end " + std::to_string(end) + " retry-after '" + retry_after +
           "' location '" + location + "' body " + std::to_string(body.size()) + " bytes, " +
           std::to_string(headers.size()) + " headers, etag '" + etag + "'" + (too_large ? " too large" : "");
  }
};

// Parses one response starting at `from`, in pieces of the given lengths (cycled).
struct fetch_mode {
  bool fetch = false, head = false;
  std::size_t cap = 0;
};

outcome parse_one(std::string_view stream, std::size_t from, const std::vector<std::size_t>& cuts,
                  response_parser& p, const fetch_mode& mode) {
  outcome o;
  if (mode.fetch) p.expect(mode.head, mode.cap, true);
  std::size_t at = from, k = 0;
  while (at < stream.size()) {
    std::size_t len = cuts.empty() ? stream.size() - at : cuts[k++ % cuts.size()];
    std::string_view piece = stream.substr(at, len);
    std::size_t used = 0;
    auto r = p.feed(piece, used);
    if (r == response_parser::result::error) {
      o.result = r;
      o.too_large = p.too_large();
      return o;
    }
    fz::check(used <= piece.size(), "parser-used", "used " + std::to_string(used) + " of " + std::to_string(piece.size()));
    if (r == response_parser::result::need_more)
      fz::check(used == piece.size(), "parser-used",
                "need_more left " + std::to_string(piece.size() - used) + " bytes unconsumed");
    at += used;
    if (r == response_parser::result::done) {
      o.result = r;
      o.end = at;
      break;
    }
  }
  if (o.result == response_parser::result::need_more) {
    o.result = p.feed_eof();
    o.end = stream.size();
    o.too_large = p.too_large();
  }
  if (o.result == response_parser::result::done) {
    o.status = p.status();
    o.keep_alive = p.keep_alive();
    o.retry_after = p.retry_after();
    o.location = p.location();
    o.etag = p.etag();
    o.last_modified = p.last_modified();
    o.content_type = p.content_type();
    o.cache_control = p.cache_control();
    o.body = p.take_body();
    o.headers = p.take_headers();
    fz::check(o.body.size() <= mode.cap, "parser-cap",
              "body of " + std::to_string(o.body.size()) + " bytes kept under a cap of " + std::to_string(mode.cap));
    fz::check(o.headers.size() <= syndic::engine::http::response::max_kept_headers, "parser-headers",
              std::to_string(o.headers.size()) + " headers kept");
    fz::check(o.status >= 200 && o.status <= 999, "parser-status", "done with status " + std::to_string(o.status));
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t n = data[0] % 16;
  fetch_mode mode;
  mode.fetch = data[0] & 0x10;
  mode.head = data[0] & 0x20;
  mode.cap = mode.fetch ? (data[0] & 0x40 ? 64 : 4096) : 0;
  if (size < 1 + n) return 0;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < n; ++i) cuts.push_back(std::size_t{data[1 + i]} + 1);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1 + n, size - 1 - n);

  response_parser whole, split;
  std::size_t from_whole = 0, from_split = 0;
  for (int response = 0; response < 8; ++response) {
    outcome a = parse_one(stream, from_whole, {}, whole, mode);
    outcome b = parse_one(stream, from_split, cuts, split, mode);
    auto same_headers = [](const outcome& x, const outcome& y) {
      if (x.headers.size() != y.headers.size()) return false;
      for (std::size_t i = 0; i < x.headers.size(); ++i)
        if (x.headers[i].name != y.headers[i].name || x.headers[i].value != y.headers[i].value) return false;
      return true;
    };
    bool same = a.result == b.result && a.too_large == b.too_large &&
                (a.result != response_parser::result::done ||
                 (a.status == b.status && a.keep_alive == b.keep_alive && a.retry_after == b.retry_after &&
                  a.location == b.location && a.end == b.end && a.body == b.body && a.etag == b.etag &&
                  a.last_modified == b.last_modified && a.content_type == b.content_type &&
                  a.cache_control == b.cache_control && same_headers(a, b)));
    fz::check(same, "parser-split",
              "response " + std::to_string(response) + ": whole " + a.show() + (a.result == response_parser::result::error ? " (" + whole.error() + ")" : "") +
                  "\n  in pieces " + b.show() + (b.result == response_parser::result::error ? " (" + split.error() + ")" : ""),
              stream);
    if (a.result != response_parser::result::done || a.end >= stream.size() || a.end == from_whole) break;
    from_whole = a.end;
    from_split = b.end;
    whole.reset();
    split.reset();
  }
  return 0;
}
