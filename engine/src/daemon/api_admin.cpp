// /v1/outlets...: list, add, update, remove outlets; show one's state; replay; dead letters.

#include "daemon/api_routes.hpp"
#include "daemon/outlet_json.hpp"

#include <charconv>

namespace syndic::daemon::routes {
namespace {

std::string time_json(engine::store_time t) {
  if (t == engine::store_time{}) return "null";
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

std::optional<engine::seq_t> parse_seq(std::string_view s) {
  engine::seq_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

// replay and retry_dead_letters refused: another instance delivers for the outlet (a cluster),
// 409 with its URL (also in Syndic-Owner), or the outlet is unknown here, 404.
server_response not_here(api_context& ctx, const std::string& id, const std::string& error) {
  bool unknown = error.starts_with("no outlet");
  std::string owner = ctx.owner_url && !unknown ? ctx.owner_url(id) : std::string();
  if (owner.empty()) return server_response::error(404, error);
  return server_response::error(409, error + "; send this request to " + owner).set("Syndic-Owner", owner);
}

server_response list(api_context& ctx) {
  std::string body = "{\"outlets\":[";
  bool first = true;
  for (const auto& o : ctx.fan->outlets()) {
    if (!first) body += ',';
    first = false;
    body += "{\"id\":" + json(o.id) + ",\"next\":" + std::to_string(o.next) +
            ",\"in_engine\":" + std::to_string(o.in_engine) + ",\"lag\":" + std::to_string(o.lag) +
            ",\"retired\":" + (o.retired ? "true" : "false") + "}";
  }
  return server_response::json(200, body + "]}");
}

server_response show(api_context& ctx, const std::string& id) {
  auto views = ctx.fan->outlets();
  auto v = std::find_if(views.begin(), views.end(), [&](const auto& x) { return x.id == id; });
  if (v == views.end()) return server_response::error(404, "no such outlet");
  auto p = ctx.db->progress(id);
  if (!p.ok()) return server_response::error(503, p.status.message);
  std::string body = "{\"id\":" + json(id) + ",\"lag\":" + std::to_string(v->lag) +
                     ",\"in_engine\":" + std::to_string(v->in_engine) + ",\"retired\":" + (v->retired ? "true" : "false");
  if (p.value) {
    const auto& s = *p.value;
    body += ",\"cursor\":" + std::to_string(s.cursor) + ",\"done_above_cursor\":" + std::to_string(s.done_above) +
            ",\"retries\":" + std::to_string(s.retries) + ",\"dead_letters\":" + std::to_string(s.dead_letters) +
            ",\"last_error\":" + json(s.last_error) + ",\"last_error_at\":" + time_json(s.last_error_at);
  }
  // Live, from the outlet's shard: the circuit and the connection limit are the engine's.
  if (auto l = ctx.eng->outlet_loads(id)) {
    const char* circuit = l->circuit_open ? "open" : l->probing ? "half_open" : "closed";
    body += ",\"circuit\":" + json(circuit) + ",\"circuit_reopens_in_ms\":" + std::to_string(l->circuit_reopens_in.count()) +
            ",\"consecutive_failures\":" + std::to_string(l->consecutive_failures) +
            ",\"queued_in_engine\":" + std::to_string(l->queued) + ",\"in_flight\":" + std::to_string(l->in_flight) +
            ",\"concurrency_limit\":" + std::to_string(l->concurrency_limit) +
            ",\"last_failure\":" + json(l->last_failure);
  }
  return server_response::json(200, body + "}");
}

server_response dead_letters(api_context& ctx, const std::string& id, const server_request& req) {
  bool found = false;
  std::string after_text = query_param(req.query(), "after", &found);
  engine::seq_t after = 0;
  if (found) {
    auto a = parse_seq(after_text);
    if (!a) return server_response::error(400, "after: a sequence number");
    after = *a;
  }
  auto d = ctx.db->dead_letters(id, after, 500);
  if (!d.ok()) return server_response::error(503, d.status.message);
  std::string body = "{\"dead_letters\":[";
  for (std::size_t i = 0; i < d.value.size(); ++i) {
    const auto& x = d.value[i];
    if (i) body += ',';
    body += "{\"seq\":" + std::to_string(x.seq) + ",\"status\":" + std::to_string(x.status) +
            ",\"error\":" + json(x.error) + ",\"attempts\":" + std::to_string(x.attempts) +
            ",\"at\":" + time_json(x.at) + ",\"delivery_id\":" + json(x.delivery_id) + "}";
  }
  return server_response::json(200, body + "]}");
}

server_response put_outlet(api_context& ctx, const server_request& req, std::string id_from_path) {
  auto parsed = outlet_from_json(req.body, id_from_path);
  if (!parsed.error.empty()) return server_response::error(400, parsed.error);
  if (!ctx.settings->allow_private_targets) {
    if (std::string refusal = private_target_refusal(parsed.outlet.endpoint); !refusal.empty())
      return server_response::error(403, refusal);
    parsed.outlet.public_only = true;  // and every address it resolves to, at each connect
  }
  if (std::string error = ctx.fan->add_outlet(parsed.outlet); !error.empty())
    return server_response::error(400, error);
  engine::stored_outlet so;
  so.id = parsed.outlet.id;
  so.config = req.body;
  if (auto s = ctx.db->write_sync({engine::save_outlet{std::move(so)}}); !s.ok())
    return server_response::error(503, "added, but not stored: " + s.message);
  return server_response::json(id_from_path.empty() ? 201 : 200, "{\"id\":" + json(parsed.outlet.id) + "}");
}

}  // namespace

server_response admin(api_context& ctx, const server_request& req, std::string_view rest) {
  const std::string& m = req.method;
  if (rest.empty() || rest == "/") {
    if (m == "GET") return list(ctx);
    if (m == "POST") return put_outlet(ctx, req, {});
    return server_response::error(405, "GET or POST").set("Allow", "GET, POST");
  }
  rest.remove_prefix(1);
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (id.empty() || id.size() > 200) return server_response::error(404, "no such outlet");
  if (action.empty()) {
    if (m == "GET") return show(ctx, id);
    if (m == "PUT") return put_outlet(ctx, req, id);
    if (m == "DELETE") {
      bool forget = query_param(req.query(), "forget") == "1";
      ctx.fan->remove_outlet(id, forget);
      ctx.db->write({engine::delete_outlet{id}});
      return server_response(204);
    }
    return server_response::error(405, "GET, PUT or DELETE").set("Allow", "GET, PUT, DELETE");
  }
  if (action == "/replay") {
    if (m != "POST") return server_response::error(405, "POST").set("Allow", "POST");
    auto from = parse_seq(query_param(req.query(), "from"));
    if (!from) return server_response::error(400, "from: the sequence number to replay from (1 or more)");
    if (std::string e = ctx.fan->replay(id, *from); !e.empty()) return not_here(ctx, id, e);
    return server_response::json(202, "{\"replay_from\":" + std::to_string(*from) + "}");
  }
  if (action == "/dead-letters") {
    if (m == "GET") return dead_letters(ctx, id, req);
    if (m == "DELETE") {
      if (auto s = ctx.db->write_sync({engine::drop_dead_letters{id, {}}}); !s.ok())
        return server_response::error(503, s.message);
      return server_response(204);
    }
    return server_response::error(405, "GET or DELETE").set("Allow", "GET, DELETE");
  }
  if (action == "/dead-letters/retry") {
    if (m != "POST") return server_response::error(405, "POST").set("Allow", "POST");
    if (std::string e = ctx.fan->retry_dead_letters(id, {}); !e.empty()) return not_here(ctx, id, e);
    return server_response::json(202, "{}");
  }
  return server_response::error(404, "no such route");
}

}  // namespace syndic::daemon::routes
