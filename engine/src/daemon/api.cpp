#include "daemon/api.hpp"

#include "cli/json_string.hpp"
#include "daemon/api_routes.hpp"
#include "daemon/auth.hpp"
#include "daemon/hub.hpp"

#include <cctype>
#include <optional>

namespace syndic::daemon {

using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;

namespace routes {

std::string json(std::string_view s) { return cli::json_string(s); }

std::string query_param(std::string_view query, std::string_view name, bool* found) {
  if (found) *found = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    if (found) *found = true;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      if (raw[i] == '+') out += ' ';
      else if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
        i += 2;
      } else out += raw[i];
    }
    return out;
  }
  return {};
}

}  // namespace routes

bool valid_channel(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

std::size_t api_body_limit(const run_settings& s, const server_request& head) {
  if (head.method == "POST" && head.path().starts_with("/websub/")) return s.max_body_bytes;  // a hub's whole feed
  if (head.method == "POST" && (head.path() == "/v1/publish" || head.path() == "/hub"))
    return head.path() == "/hub" ? 64 * 1024 : s.max_body_bytes;
  return 256 * 1024;  // admin bodies are small
}

namespace {

// The answer to a request whose credentials do not pass, or nullopt when they do.
std::optional<server_response> refused(const api_context& ctx, const server_request& req) {
  auth_result a = ctx.auth->check(req.header("authorization"));
  if (a == auth_result::ok) return std::nullopt;
  auto r = server_response::error(bearer_auth::http_status(a), a == auth_result::missing ? "a bearer token is required"
                                                               : a == auth_result::wrong ? "wrong bearer token"
                                                                                         : "malformed Authorization header");
  r.set("WWW-Authenticate", bearer_auth::www_authenticate(a));
  return r;
}

server_response metrics(api_context& ctx) {
  return server_response(200, ctx.metrics->registry.expose(), metrics_registry::content_type);
}

void dispatch(api_context& ctx, server_request&& req, responder answer) {
  std::string_view path = req.path();
  const std::string& method = req.method;
  if (path == "/healthz") {
    answer.send(server_response(200, "ok\n", "text/plain"));
    return;
  }
  if (path == "/readyz") {
    bool ready = ctx.ready && ctx.ready->load();
    answer.send(ready ? server_response(200, "ready\n", "text/plain") : server_response::error(503, "starting or stopping"));
    return;
  }
  if (path == "/metrics") {
    answer.send(metrics(ctx));
    return;
  }
  if (path.starts_with("/feeds/")) {
    if (method != "GET" && method != "HEAD") {
      answer.send(server_response::error(405, "feeds answer GET and HEAD").set("Allow", "GET, HEAD"));
      return;
    }
    answer.send(routes::feed(ctx, req, path.substr(7)));
    return;
  }
  if (path == "/hub") {
    answer.send(ctx.websub ? ctx.websub->handle(req) : server_response::error(503, "the hub is starting"));
    return;
  }
  if (path == "/v1/publish") {
    if (method != "POST") {
      answer.send(server_response::error(405, "publish takes POST").set("Allow", "POST"));
      return;
    }
    if (auto r = refused(ctx, req)) {
      answer.send(std::move(*r));
      return;
    }
    routes::publish(ctx, std::move(req), answer);
    return;
  }
  if (path.starts_with("/websub/")) {  // callbacks of the WebSub subscriber (a hub calls them)
    if (!ctx.subscriber) {
      answer.send(server_response::error(404, "no such subscription"));
      return;
    }
    routes::websub_callback(ctx, std::move(req), answer, path.substr(8));
    return;
  }
  if (path == "/v1/sources" || path.starts_with("/v1/sources/")) {
    if (auto r = refused(ctx, req)) {
      answer.send(std::move(*r));
      return;
    }
    answer.send(ctx.sources ? routes::sources(ctx, req, path.substr(11))
                            : server_response::error(503, "polling is starting"));
    return;
  }
  if (path == "/v1/cluster") {  // this instance's view of the cluster (admin)
    if (auto r = refused(ctx, req)) {
      answer.send(std::move(*r));
      return;
    }
    if (method != "GET") {
      answer.send(server_response::error(405, "the cluster view answers GET").set("Allow", "GET"));
      return;
    }
    if (!ctx.cluster_json) {
      answer.send(server_response::error(404, "not in a cluster: this instance's store is not shared (see --store)"));
      return;
    }
    answer.send(server_response::json(200, ctx.cluster_json()));
    return;
  }
  if (path.starts_with("/v1/outlets")) {
    if (auto r = refused(ctx, req)) {
      answer.send(std::move(*r));
      return;
    }
    answer.send(routes::admin(ctx, req, path.substr(11)));
    return;
  }
  answer.send(server_response::error(404, "no such route"));
}

}  // namespace

engine::http::handler make_api_handler(api_context& ctx) {
  return [&ctx](server_request&& req, responder answer) { dispatch(ctx, std::move(req), std::move(answer)); };
}

}  // namespace syndic::daemon
