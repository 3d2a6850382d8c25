// /v1/sources: the admin API of polled sources. Bodies are read by poll::source_from_json
// (the sources file's rules); answers never show a header's value or a URL's userinfo.
//   GET    /v1/sources               every source and its state
//   POST   /v1/sources               add (201; 409 when the id is taken)
//   GET    /v1/sources/{id}          one source and its state
//   PUT    /v1/sources/{id}          add (201) or replace (200) an API source
//   DELETE /v1/sources/{id}          remove an API source (204)
//   POST   /v1/sources/{id}/poll     poll it now (202)
// Sources from the operator's files are listed, but changed in their file (409 here).

#include "daemon/api_routes.hpp"
#include "daemon/ssrf.hpp"
#include "poll/poller.hpp"
#include "poll/source_json.hpp"

#include <syndic/engine/outlet.hpp>

#include <simdjson.h>

#include <cmath>
#include <cstdio>

namespace syndic::daemon::routes {
namespace {

std::string time_json(const std::optional<poll::sys_time>& t) {
  if (!t) return "null";
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count());
}

// Text from the network (a server's error, a hub's URL): any userinfo redacted, and bytes
// that are not UTF-8 replaced, so the JSON stays valid.
std::string network_text(std::string_view s) {
  std::string out = engine::redact_userinfo(s);
  if (!simdjson::validate_utf8(out.data(), out.size()))
    for (char& c : out)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  return json(out);
}

std::string status_json(const poll::source_status& st) {
  std::string body = poll::source_to_json(st.def, poll::header_values::redact);
  body.pop_back();  // the closing brace: the state follows
  char rate[32] = "null";
  if (st.items_per_hour >= 0 && std::isfinite(st.items_per_hour))
    std::snprintf(rate, sizeof rate, "%.6g", st.items_per_hour);
  body += ",\"origin\":" + json(st.def.origin) + ",\"fetch_url\":" + network_text(st.url) +
          ",\"state\":" + json(st.state) + ",\"last_status\":" + std::to_string(st.last_status) +
          ",\"last_error\":" + network_text(st.last_error) + ",\"last_poll\":" + time_json(st.last_poll) +
          ",\"next_poll\":" + time_json(st.next_poll) + ",\"last_new_item\":" + time_json(st.last_new_item) +
          ",\"interval\":" + std::to_string(st.interval.count()) + ",\"items_per_hour\":" + rate +
          ",\"polls\":" + std::to_string(st.polls) + ",\"not_modified\":" + std::to_string(st.not_modified) +
          ",\"unchanged\":" + std::to_string(st.unchanged) + ",\"changed\":" + std::to_string(st.changed) +
          ",\"new_items\":" + std::to_string(st.new_items) + ",\"errors\":" + std::to_string(st.errors) +
          ",\"hub\":" + network_text(st.hub) + ",\"pushed\":" + (st.pushed ? "true" : "false") + "}";
  return body;
}

bool is_api(const poll::source_status& st) { return st.def.origin == "api"; }

server_response defined_in_file(const poll::source_status& st) {
  return server_response::error(409, "source '" + st.def.id + "' is defined in " + st.def.origin +
                                         ": change it there (SIGHUP reloads the files)");
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A header sent back as "<redacted>" (as GET shows it) keeps the value the source has.
std::string keep_redacted_headers(poll::source& s, const std::optional<poll::source_status>& existing) {
  for (auto& [name, value] : s.headers) {
    if (value != poll::redacted_value) continue;
    const std::pair<std::string, std::string>* kept = nullptr;
    if (existing)
      for (const auto& h : existing->def.headers)
        if (same_name(h.first, name)) kept = &h;
    if (!kept)
      return "key 'headers': header '" + name + "' is \"<redacted>\", but the source has no such header whose value "
             "it would keep";
    value = kept->second;
  }
  return {};
}

// Adds or replaces an API source; `id_from_path` empty for POST.
server_response put_source(api_context& ctx, const server_request& req, const std::string& id_from_path) {
  poll::source_defaults defaults{ctx.settings->poll_min_interval, ctx.settings->poll_max_interval};
  std::string error;
  poll::source s = poll::source_from_json(req.body, error, defaults, id_from_path);
  if (!error.empty()) return server_response::error(400, error);
  auto existing = ctx.sources->status(s.id);
  if (existing && id_from_path.empty())
    return server_response::error(409, "source '" + s.id + "' exists (PUT /v1/sources/" + s.id + " replaces it)");
  if (existing && !is_api(*existing)) return defined_in_file(*existing);
  if (std::string e = keep_redacted_headers(s, existing); !e.empty()) return server_response::error(400, e);
  if (!ctx.settings->allow_private_targets) {
    // The host as written; every address it resolves to is checked again at each connect
    // (poller_options::refuse_address).
    if (target_check c = check_url(s.url); !c)
      return server_response::error(403, "refused: " + c.reason + " (a source added through the API may not reach "
                                         "loopback, private, link-local or metadata addresses; the operator can "
                                         "allow them with allow_private_targets)");
  }
  if (std::string e = ctx.sources->put_api_source(s); !e.empty())
    return server_response::error(e.find("defined in a file") != std::string::npos ? 409 : 400, e);
  auto now = ctx.sources->status(s.id);
  return server_response::json(existing ? 200 : 201,
                               now ? status_json(*now) : poll::source_to_json(s, poll::header_values::redact));
}

server_response list(api_context& ctx) {
  std::string body = "{\"sources\":[";
  bool first = true;
  for (const auto& st : ctx.sources->list()) {
    if (!first) body += ',';
    first = false;
    body += status_json(st);
  }
  return server_response::json(200, body + "]}");
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

}  // namespace

server_response sources(api_context& ctx, const server_request& req, std::string_view rest) {
  const std::string& m = req.method;
  if (rest.empty() || rest == "/") {
    if (m == "GET") return list(ctx);
    if (m == "POST") return put_source(ctx, req, {});
    return server_response::error(405, "GET or POST").set("Allow", "GET, POST");
  }
  rest.remove_prefix(1);
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!valid_id(id)) return server_response::error(404, "no such source");
  if (action.empty()) {
    if (m == "GET") {
      auto st = ctx.sources->status(id);
      if (!st) return server_response::error(404, "no such source");
      return server_response::json(200, status_json(*st));
    }
    if (m == "PUT") return put_source(ctx, req, id);
    if (m == "DELETE") {
      auto st = ctx.sources->status(id);
      if (!st) return server_response::error(404, "no such source");
      if (!is_api(*st)) return defined_in_file(*st);
      if (!ctx.sources->remove_source(id)) return server_response::error(404, "no such source");
      return server_response(204);
    }
    return server_response::error(405, "GET, PUT or DELETE").set("Allow", "GET, PUT, DELETE");
  }
  if (action == "/poll") {
    if (m != "POST") return server_response::error(405, "POST").set("Allow", "POST");
    if (!ctx.sources->poll_now(id)) return server_response::error(404, "no such source");
    return server_response::json(202, "{\"id\":" + json(id) + ",\"poll\":\"scheduled\"}");
  }
  return server_response::error(404, "no such route");
}

}  // namespace syndic::daemon::routes
