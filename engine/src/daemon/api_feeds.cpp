// GET|HEAD /feeds/{channel}.rss|.atom|.json: the channel's latest items, with an ETag and
// WebSub's Link header (this instance is the hub; the feed's own URL is the topic).

#include "daemon/api_routes.hpp"
#include "daemon/item_codec.hpp"
#include "delivery/ids.hpp"

#include <syndic/formats/render.hpp>

#include <cstdio>

namespace syndic::daemon::routes {
namespace {

// Whether If-None-Match (a list of entity tags, or *) names `etag` (weak comparison, as
// RFC 9110 asks for If-None-Match).
bool none_match(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  etag = strip_weak(etag);
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*" || strip_weak(tag) == etag) return true;
  }
  return false;
}

}  // namespace

server_response feed(api_context& ctx, const server_request& req, std::string_view name) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return server_response::error(404, "feeds are /feeds/CHANNEL.rss, .atom or .json");
  std::string_view channel = name.substr(0, dot), ext = name.substr(dot + 1);
  formats::output_format format;
  if (ext == "rss") format = formats::output_format::rss;
  else if (ext == "atom") format = formats::output_format::atom;
  else if (ext == "json") format = formats::output_format::json;
  else return server_response::error(404, "feeds are /feeds/CHANNEL.rss, .atom or .json");
  if (!valid_channel(channel)) return server_response::error(404, "no such channel");

  std::string self = ctx.base_url + "/feeds/" + std::string(name);
  std::string hub = ctx.base_url + "/hub";
  auto answer = [&](const std::string& body, const std::string& etag) {
    server_response r;
    if (none_match(req.header("if-none-match"), etag)) {
      r.status = 304;
    } else {
      r.status = 200;
      r.body = body;
      r.set("Content-Type", std::string(formats::content_type(format)));
    }
    r.set("ETag", etag);
    r.set("Cache-Control", "no-cache");
    r.set("Link", "<" + hub + ">; rel=\"hub\", <" + self + ">; rel=\"self\"");
    return r;
  };
  // The same log head: nothing was appended since this feed was rendered.
  auto head = ctx.db->head();
  if (!head.ok()) return server_response::error(503, "the store could not be read: " + head.status.message);
  std::string key(name);
  {
    std::lock_guard lock(ctx.feeds_mutex);
    if (auto it = ctx.feeds.find(key); it != ctx.feeds.end() && it->second.head == head.value)
      return answer(it->second.body, it->second.etag);
  }

  auto records = ctx.db->latest(channel, ctx.settings->feed_items);
  if (!records.ok()) return server_response::error(503, "the store could not be read: " + records.status.message);

  formats::feed out;
  out.title = std::string(channel);
  out.link = self;
  out.self_link = self;
  out.hubs.push_back(hub);
  out.id = self;
  for (const auto& r : records.value) {
    std::string error;
    auto doc = decode_item(r, error);
    if (!doc) continue;  // an undecodable record is not served (it shows as a dead letter)
    formats::item it = doc->items.front();
    // An item without dates is dated by when it was received (Atom requires <updated>).
    if (!it.updated && !it.published) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.received.time_since_epoch()).count();
      it.published = formats::timestamp{ms, 0};
    }
    out.items.push_back(std::move(it));
  }
  out.description = "syndic channel " + out.title;
  if (!out.items.empty()) out.updated = out.items.front().updated ? out.items.front().updated : out.items.front().published;

  std::string body = formats::render(out, format);
  char etag[32];
  std::snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(engine::detail::fnv1a(body)));
  server_response r = answer(body, etag);
  std::lock_guard lock(ctx.feeds_mutex);
  if (ctx.feeds.size() >= api_context::max_cached_feeds) ctx.feeds.clear();
  ctx.feeds[key] = api_context::rendered_feed{head.value, std::move(body), etag};
  return r;
}

}  // namespace syndic::daemon::routes
