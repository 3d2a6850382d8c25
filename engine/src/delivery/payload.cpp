#include "delivery/payload.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <algorithm>

namespace syndic::engine::detail {

namespace {

// The body for `doc` in format `f`: the same code serves one item and a batch.
void render_body(payload_format f, const formats::feed& doc, std::int64_t now_unix, payload& p) {
  switch (f) {
    case payload_format::webhook: {
      // Standard Webhooks' envelope: type, timestamp, data (a JSON Feed: one item or a batch).
      p.body = "{\"type\":\"item.published\",\"timestamp\":\"";
      p.body += formats::format_rfc3339(formats::timestamp{now_unix * 1000, 0});
      p.body += "\",\"data\":";
      formats::render_json(doc, p.body);
      while (!p.body.empty() && p.body.back() == '\n') p.body.pop_back();
      p.body += "}";
      p.content_type = "application/json";
      break;
    }
    case payload_format::jsonfeed:
      formats::render_json(doc, p.body);
      p.content_type = "application/feed+json";
      break;
    case payload_format::atom:
    case payload_format::websub:  // WebSub distributes the topic's content: Atom here
      formats::render_atom(doc, p.body);
      p.content_type = "application/atom+xml";
      break;
    case payload_format::rss:
      formats::render_rss(doc, p.body);
      p.content_type = "application/rss+xml";
      break;
  }
}

}  // namespace

formats::feed header_of(const formats::feed& source) {
  formats::feed one;
  one.format = source.format;
  one.title = source.title;
  one.title_type = source.title_type;
  one.link = source.link;
  one.self_link = source.self_link;
  one.hubs = source.hubs;
  one.id = source.id;
  one.language = source.language;
  one.updated = source.updated;
  return one;
}

payload_set::payload_set(const formats::feed& source, const formats::item& it, std::int64_t now_unix)
    : now_(now_unix) {
  auto one = std::make_shared<formats::feed>(header_of(source));
  one->items.push_back(it);
  doc_ = std::move(one);
}

std::shared_ptr<const payload> payload_set::get(payload_format f) {
  auto& slot = rendered_[static_cast<std::size_t>(f)];
  if (slot) return slot;
  auto p = std::make_shared<payload>();
  p->item_id = formats::synthesized_item_id(doc_->items.front());
  p->created_unix = now_;
  p->topic = doc_->self_link;
  p->hub = doc_->hubs.empty() ? std::string() : doc_->hubs.front();
  p->doc = doc_;
  render_body(f, *doc_, now_, *p);
  slot = std::move(p);
  return slot;
}

std::shared_ptr<const payload> render_batch(payload_format f,
                                            std::span<const std::shared_ptr<const payload>> parts) {
  auto p = std::make_shared<payload>();
  if (parts.empty()) return p;
  const payload& first = *parts.front();
  formats::feed doc = header_of(*first.doc);
  doc.items.reserve(parts.size());
  for (const auto& part : parts) doc.items.push_back(part->doc->items.front());
  p->created_unix = first.created_unix;
  p->topic = first.topic;
  p->hub = first.hub;
  render_body(f, doc, first.created_unix, *p);
  return p;
}

bool same_source(const payload& a, const payload& b) {
  if (a.doc == b.doc) return true;
  if (!a.doc || !b.doc) return false;
  return a.doc->id == b.doc->id && a.doc->self_link == b.doc->self_link &&
         a.doc->link == b.doc->link && a.doc->title == b.doc->title;
}

}  // namespace syndic::engine::detail

namespace syndic::engine {
bool outlet_wants(const outlet_config& outlet, const formats::feed& source, const formats::item& it) {
  return detail::wants(detail::outlet_filter(outlet), source, it);
}
}  // namespace syndic::engine

namespace syndic::engine::detail {

bool wants(const outlet_filter& o, const formats::feed& source, const formats::item& it) {
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
