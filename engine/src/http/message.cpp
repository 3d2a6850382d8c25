#include "http/message.hpp"

namespace syndic::engine::http {

std::string_view to_string(method m) {
  switch (m) {
    case method::post: return "POST";
    case method::get: return "GET";
    case method::head: return "HEAD";
  }
  return "POST";
}

std::string_view to_string(transport_error e) {
  switch (e) {
    case transport_error::none: return "none";
    case transport_error::timeout: return "timeout";
    case transport_error::connect: return "connect";
    case transport_error::dns: return "dns";
    case transport_error::tls: return "tls";
    case transport_error::reset: return "reset";
    case transport_error::too_large: return "too_large";
    case transport_error::protocol: return "protocol";
    case transport_error::local: return "local";
    case transport_error::other: return "other";
  }
  return "other";
}

std::string_view describe(transport_error e) {
  switch (e) {
    case transport_error::none: return "no error";
    case transport_error::timeout: return "timed out";
    case transport_error::connect: return "could not connect";
    case transport_error::dns: return "could not resolve the host name";
    case transport_error::tls: return "TLS handshake failed";
    case transport_error::reset: return "connection closed before a whole answer";
    case transport_error::too_large: return "response body too large";
    case transport_error::protocol: return "not a valid HTTP answer";
    case transport_error::local: return "out of local resources";
    case transport_error::other: return "request failed";
  }
  return "request failed";
}

std::string safe_header_line(std::string_view line) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(line.size());
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string body_over_cap(std::size_t cap) { return "response body over " + std::to_string(cap) + " bytes"; }

}  // namespace syndic::engine::http
