// The server's request and response values (no I/O here; server.cpp does the rest).

#include "http/server.hpp"

#include "formats/src/text.hpp"

namespace syndic::engine::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string_view server_request::header(std::string_view name) const {
  for (const auto& f : headers)
    if (iequals(f.name, name)) return f.value;
  return {};
}

bool server_request::has_header(std::string_view name) const {
  for (const auto& f : headers)
    if (iequals(f.name, name)) return true;
  return false;
}

std::string_view server_request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view server_request::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

server_response::server_response(int s, std::string b, std::string_view content_type)
    : status(s), body(std::move(b)) {
  if (!content_type.empty()) headers.push_back({"Content-Type", std::string(content_type)});
}

server_response server_response::error(int status, std::string_view message) {
  // Messages may quote a client's bytes: cut, made valid UTF-8, then escaped, so the body is
  // always JSON and always small.
  constexpr std::size_t max_message = 300;
  std::string text(message.substr(0, max_message));
  formats::detail::repair_utf8(text);
  std::string body = "{\"error\":\"";
  formats::detail::append_json_escaped(body, text);
  body += "\"}";
  return server_response(status, std::move(body), "application/json");
}

server_response server_response::json(int status, std::string body) {
  return server_response(status, std::move(body), "application/json");
}

server_response& server_response::set(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
  return *this;
}

handler synchronous(sync_handler f) {
  return [f = std::move(f)](server_request&& request, responder answer) { answer.send(f(request)); };
}

}  // namespace syndic::engine::http
