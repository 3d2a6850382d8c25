#include "delivery/payload.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <algorithm>

namespace syndic::engine::detail {

payload_set::payload_set(const formats::feed& source, const formats::item& it, std::int64_t now_unix)
    : source_(source), item_(it), now_(now_unix) {}

std::shared_ptr<const payload> payload_set::get(payload_format f) {
  auto& slot = rendered_[static_cast<std::size_t>(f)];
  if (slot) return slot;
  // A one-item feed carrying the source's metadata: every format says where the item is from.
  formats::feed one;
  one.format = source_.format;
  one.title = source_.title;
  one.title_type = source_.title_type;
  one.link = source_.link;
  one.self_link = source_.self_link;
  one.hubs = source_.hubs;
  one.id = source_.id;
  one.language = source_.language;
  one.updated = source_.updated;
  one.items.push_back(item_);
  auto p = std::make_shared<payload>();
  p->item_id = formats::synthesized_item_id(item_);
  p->created_unix = now_;
  p->topic = source_.self_link;
  p->hub = source_.hubs.empty() ? std::string() : source_.hubs.front();
  switch (f) {
    case payload_format::webhook: {
      // Standard Webhooks' envelope: type, timestamp, data.
      p->body = "{\"type\":\"item.published\",\"timestamp\":\"";
      p->body += formats::format_rfc3339(formats::timestamp{now_ * 1000, 0});
      p->body += "\",\"data\":";
      formats::render_json(one, p->body);
      while (!p->body.empty() && p->body.back() == '\n') p->body.pop_back();
      p->body += "}";
      p->content_type = "application/json";
      break;
    }
    case payload_format::jsonfeed:
      formats::render_json(one, p->body);
      p->content_type = "application/feed+json";
      break;
    case payload_format::atom:
    case payload_format::websub:  // WebSub distributes the topic's content: Atom here
      formats::render_atom(one, p->body);
      p->content_type = "application/atom+xml";
      break;
    case payload_format::rss:
      formats::render_rss(one, p->body);
      p->content_type = "application/rss+xml";
      break;
  }
  slot = std::move(p);
  return slot;
}

bool wants(const outlet_config& o, const formats::feed& source, const formats::item& it) {
  if (!o.languages.empty()) {
    std::string_view lang = it.language.empty() ? std::string_view(source.language) : it.language;
    // "en" admits "en-US": a language filter names the language, not a region.
    bool ok = std::any_of(o.languages.begin(), o.languages.end(), [&](const std::string& l) {
      return lang == l || (lang.size() > l.size() && lang.starts_with(l) && lang[l.size()] == '-');
    });
    if (!ok) return false;
  }
  if (!o.categories.empty()) {
    bool ok = std::any_of(it.categories.begin(), it.categories.end(), [&](const formats::category& c) {
      return std::find(o.categories.begin(), o.categories.end(), c.term) != o.categories.end();
    });
    if (!ok) return false;
  }
  if (!o.sources.empty()) {
    bool ok = std::any_of(o.sources.begin(), o.sources.end(), [&](const std::string& s) {
      return s == source.self_link || s == source.link || s == source.id || s == source.title;
    });
    if (!ok) return false;
  }
  return true;
}

}  // namespace syndic::engine::detail
