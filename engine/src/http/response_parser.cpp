#include "http/response_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace syndic::engine::http {
namespace {

// A short excerpt of what the server sent, for an error message that reaches logs and
// terminals: at most `n` bytes, anything but printable ASCII written as \xNN, so a hostile
// answer cannot inject escape sequences, line breaks or invalid UTF-8 into them.
std::string excerpt(std::string_view bytes, std::size_t n) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, n)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Equal but for ASCII case, as (x | 0x20) == (y | 0x20) byte by byte, 8 bytes at a time (the
// last word overlapping the one before).
bool iequals(std::string_view a, std::string_view b) {
  std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i)
      if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
  }
  constexpr std::uint64_t lower = 0x2020202020202020ull;
  std::uint64_t x, y;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if ((x | lower) != (y | lower)) return false;
  }
  std::memcpy(&x, a.data() + n - 8, 8);
  std::memcpy(&y, b.data() + n - 8, 8);
  return (x | lower) == (y | lower);
}

// Where a head ends in `s` (just past its empty line), looking for the line end from `from`;
// npos when not yet. A lone LF ends a line too (RFC 9112 2.2). memchr finds each LF.
std::size_t head_end(std::string_view s, std::size_t from) {
  while (from < s.size()) {
    const void* lf = std::memchr(s.data() + from, '\n', s.size() - from);
    if (!lf) return std::string_view::npos;
    std::size_t k = static_cast<std::size_t>(static_cast<const char*>(lf) - s.data());
    if (k + 1 < s.size() && s[k + 1] == '\n') return k + 2;
    if (k + 2 < s.size() && s[k + 1] == '\r' && s[k + 2] == '\n') return k + 3;
    from = k + 1;
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated token of a header value.
template <class F>
void each_token(std::string_view value, F f) {
  while (!value.empty()) {
    auto comma = value.find(',');
    f(trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

void response_parser::reset() {
  phase_ = phase::head;
  head_.clear();
  line_.clear();
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  started_ = false;
  retry_after_.clear();
  location_.clear();
  error_.clear();
  if (fetch_) {  // only a fetch sets any of these: a delivery's reset stays as cheap as it was
    etag_.clear();
    last_modified_.clear();
    content_type_.clear();
    cache_control_.clear();
    content_encoding_.clear();
    fetch_ = false;
    head_request_ = false;
    keep_headers_ = false;
    too_large_ = false;
    max_body_ = 0;
    body_.clear();
    headers_.clear();
  }
}

void response_parser::expect(bool head_request, std::size_t max_body, bool keep_headers) {
  fetch_ = true;
  head_request_ = head_request;
  max_body_ = max_body;
  keep_headers_ = keep_headers;
}

response_parser::result response_parser::over_cap() {
  too_large_ = true;
  body_.clear();
  return fail("response body over " + std::to_string(max_body_) + " bytes");
}

response_parser::result response_parser::fail(std::string why) {
  error_ = std::move(why);
  keep_alive_ = false;
  return result::error;
}

bool response_parser::skip_body(std::string_view data, std::size_t& i) {
  auto n = std::min<std::uint64_t>(remaining_, data.size() - i);
  if (max_body_) body_.append(data.data() + i, n);  // within the cap: checked when the size came
  i += n;
  remaining_ -= n;
  return remaining_ == 0;
}

bool response_parser::take_line(std::string_view data, std::size_t& i, std::string& line) {
  auto nl = data.find('\n', i);
  if (nl == std::string_view::npos) {
    line.append(data.substr(i));
    i = data.size();
    return false;
  }
  line.append(data.substr(i, nl - i));
  i = nl + 1;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

response_parser::result response_parser::feed(std::string_view data, std::size_t& used) {
  std::size_t i = 0;
  if (!data.empty()) started_ = true;
  while (true) {
    switch (phase_) {
      case phase::head: {
        if (head_.empty()) {
          // The whole head in this read (nearly always): parsed where it lies, not copied, in
          // one pass that finds its end as it goes.
          std::size_t end = std::string_view::npos;
          result r = parse_head(data.substr(i), end);
          if (end != std::string_view::npos) {
            if (end > max_head_bytes) return r;  // refused (and not consumed)
            i += end;
            if (r != result::need_more) {
              used = i;
              return r;
            }
            break;
          }
        }
        // The head ends at an empty line: it is gathered in head_ until that line comes.
        std::size_t from = head_.size() >= 3 ? head_.size() - 3 : 0;
        head_.append(data.substr(i));
        std::size_t end = head_end(head_, from);
        if (end == std::string::npos) {
          used = data.size();
          if (head_.size() > max_head_bytes) return fail("response head over 64 KiB");
          return result::need_more;
        }
        // Give back what followed the head: it is the body.
        i = data.size() - (head_.size() - end);
        head_.resize(end);
        if (head_.size() > max_head_bytes) return fail("response head over 64 KiB");
        if (auto r = parse_head(head_, end); r != result::need_more) {
          used = i;
          return r;
        }
        break;
      }
      case phase::body_length:
      case phase::chunk_data:
        if (!skip_body(data, i)) {
          used = i;
          return result::need_more;
        }
        phase_ = phase_ == phase::body_length ? phase::done : phase::chunk_data_end;
        break;
      case phase::chunk_size: {
        // The limit holds whether the line came in one read or in pieces.
        bool complete = take_line(data, i, line_);
        if (line_.size() > max_line_bytes) return fail("chunk-size line too long");
        if (!complete) {
          used = i;
          return result::need_more;
        }
        std::string_view size = trim(std::string_view(line_).substr(0, line_.find(';')));
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), n, 16);
        if (size.empty() || ec != std::errc() || p != size.data() + size.size())
          return fail("bad chunk size '" + excerpt(line_, 32) + "'");
        line_.clear();
        if (max_body_ && n > max_body_ - body_.size()) return over_cap();
        remaining_ = n;
        phase_ = n == 0 ? phase::trailer : phase::chunk_data;
        break;
      }
      case phase::chunk_data_end: {
        if (!take_line(data, i, line_)) {
          used = i;
          return line_.size() > 2 ? fail("chunk not followed by CRLF") : result::need_more;
        }
        if (!line_.empty()) return fail("chunk not followed by CRLF");
        phase_ = phase::chunk_size;
        break;
      }
      case phase::trailer: {
        bool complete = take_line(data, i, line_);
        if (line_.size() > max_line_bytes) return fail("trailer line too long");
        if (!complete) {
          used = i;
          return result::need_more;
        }
        bool last = line_.empty();
        line_.clear();
        if (last) phase_ = phase::done;
        break;
      }
      case phase::body_until_close:
        if (max_body_) {
          if (data.size() - i > max_body_ - body_.size()) return over_cap();
          body_.append(data.substr(i));
        }
        used = data.size();
        return result::need_more;
      case phase::done:
        used = i;
        return result::done;
    }
  }
}

response_parser::result response_parser::feed_eof() {
  if (phase_ == phase::body_until_close) {
    phase_ = phase::done;
    return result::done;
  }
  if (phase_ == phase::done) return result::done;
  return fail(started_ ? "connection closed in the middle of a response" : "connection closed before a response");
}

void response_parser::clear_head_fields() {
  retry_after_.clear();
  location_.clear();
  etag_.clear();
  last_modified_.clear();
  content_type_.clear();
  cache_control_.clear();
  content_encoding_.clear();
  headers_.clear();
}

response_parser::result response_parser::parse_head(std::string_view data, std::size_t& end) {
  // Lines are taken as they are found (one memchr each); a lone LF ends a line too (RFC 9112
  // 2.2). `data` may end before the head does: nothing is kept then (end stays npos) and the
  // caller gathers the head and parses it again, whole.
  std::size_t pos = 0, line_start = 0;
  auto next_line = [&](std::string_view& line) {
    const void* lf = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (!lf) return false;
    std::size_t k = static_cast<std::size_t>(static_cast<const char*>(lf) - data.data());
    line_start = pos;
    line = data.substr(pos, k - pos);
    pos = k + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  };
  auto incomplete = [&] {
    clear_head_fields();
    return result::need_more;
  };
  // A bad line: refused as the whole head would be once it is all there (over 64 KiB first).
  auto bad = [&](std::string why) {
    std::size_t e = head_end(data, line_start);
    if (e == std::string_view::npos) return incomplete();
    end = e;
    return fail(e > max_head_bytes ? std::string("response head over 64 KiB") : std::move(why));
  };
  // "HTTP/1.1 204 No Content"
  std::string_view status_line;
  if (!next_line(status_line)) return incomplete();
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
      (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return bad("bad status line '" + excerpt(status_line, 40) + "'");
  int status = 0;
  auto digits = status_line.substr(9, 3);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + 3, status);
  if (ec != std::errc() || p != digits.data() + 3 || status < 100)
    return bad("bad status code '" + excerpt(digits, 40) + "'");
  bool http10 = status_line[7] == '0';

  bool close = http10, chunked = false, other_coding = false;
  std::uint64_t length = 0;
  bool has_length = false;
  for (std::string_view line;;) {
    if (!next_line(line)) return incomplete();
    if (line.empty()) break;  // the end of the head
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (line.front() == ' ' || line.front() == '\t') continue;  // obsolete line folding
      return bad("bad header line '" + excerpt(line, 40) + "'");
    }
    std::string_view name = line.substr(0, colon);
    // Trimmed only for a name that is read (a delivery reads none of Server, Date...).
    std::string_view value;
    auto trimmed = [&] { return value = trim(line.substr(colon + 1)); };
    switch (name.size()) {  // one comparison per line, at most, for the names a delivery reads
      case 14:
        if (iequals(name, "content-length")) {
          trimmed();
          std::uint64_t n = 0;
          auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), n);
          if (value.empty() || e != std::errc() || q != value.data() + value.size() || (has_length && n != length))
            return bad("bad Content-Length '" + excerpt(value, 40) + "'");
          length = n;
          has_length = true;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding"))
          each_token(trimmed(), [&](std::string_view t) {
            chunked = iequals(t, "chunked");  // only a final `chunked` frames the body
            other_coding = !chunked;
          });
        break;
      case 10:
        if (iequals(name, "connection"))
          each_token(trimmed(), [&](std::string_view t) {
            if (iequals(t, "close")) close = true;
            else if (http10 && iequals(t, "keep-alive")) close = false;
          });
        break;
      case 11:
        if (iequals(name, "retry-after")) retry_after_ = trimmed();
        break;
      case 8:
        if (iequals(name, "location")) location_ = trimmed();
        break;
    }
    if (fetch_) {  // deliveries need none of these: one test per line for them
      trimmed();
      if (iequals(name, "etag")) etag_ = value;
      else if (iequals(name, "last-modified")) last_modified_ = value;
      else if (iequals(name, "content-type")) content_type_ = value;
      else if (iequals(name, "cache-control")) cache_control_ = value;
      else if (iequals(name, "content-encoding")) content_encoding_ = value;
      if (keep_headers_) keep_header_field(headers_, name, value);
    }
  }
  end = pos;
  if (end > max_head_bytes) {
    clear_head_fields();
    return fail("response head over 64 KiB");
  }
  if (status < 200) {
    if (status == 101) return fail("unexpected 101 Switching Protocols");
    // An interim answer (100 Continue, 103 Early Hints): the final one follows.
    head_.clear();
    clear_head_fields();
    return result::need_more;
  }
  status_ = status;
  keep_alive_ = !close;
  if (head_request_ || status == 204 || status == 304) {
    phase_ = phase::done;  // RFC 9112 6.3: no body, whatever Content-Length says
  } else if (chunked) {
    if (has_length) keep_alive_ = false;  // RFC 9112 6.3: both framings, close afterwards
    phase_ = phase::chunk_size;
  } else if (other_coding) {
    keep_alive_ = false;
    phase_ = phase::body_until_close;
  } else if (has_length) {
    if (max_body_ && length > max_body_) return over_cap();  // before a byte of it is read
    remaining_ = length;
    phase_ = length ? phase::body_length : phase::done;
  } else {
    keep_alive_ = false;
    phase_ = phase::body_until_close;
  }
  return result::need_more;  // the loop goes on with the body phase
}

}  // namespace syndic::engine::http
