#pragma once
// What an outlet receives for one item: rendered once per payload format, shared (read-only)
// by every outlet of that format on every shard.

#include <syndic/engine/outlet.hpp>
#include <syndic/formats/model.hpp>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace syndic::engine::detail {

struct payload {
  std::string item_id;
  std::string body;
  std::string_view content_type;
  std::int64_t created_unix = 0;  // the webhook-timestamp base
  std::string topic;              // WebSub: the feed's self link
  std::string hub;
  // The one-item feed the body was rendered from, kept (once per item, not per outlet) so that
  // a throttled outlet's queued items can be rendered again as one batch.
  std::shared_ptr<const formats::feed> doc;
};

// The source's metadata without its items: every format says where the item is from.
formats::feed header_of(const formats::feed& source);

// One payload per format, rendered lazily: formats no outlet wants are never rendered.
class payload_set {
public:
  payload_set(const formats::feed& source, const formats::item& it, std::int64_t now_unix);
  // From a document that already holds the source's metadata and exactly one item.
  payload_set(std::shared_ptr<const formats::feed> one_item_doc, std::int64_t now_unix)
      : doc_(std::move(one_item_doc)), now_(now_unix) {}
  std::shared_ptr<const payload> get(payload_format f);

private:
  std::shared_ptr<const formats::feed> doc_;
  std::int64_t now_;
  std::array<std::shared_ptr<const payload>, 5> rendered_;
};

// One request carrying several queued items in format `f`: a feed (or, for webhooks, an
// envelope around a JSON Feed) whose items are the parts' items, in the parts' order.
std::shared_ptr<const payload> render_batch(payload_format f,
                                            std::span<const std::shared_ptr<const payload>> parts);

// Whether two payloads' items come from the same source feed (a batch has one source).
bool same_source(const payload& a, const payload& b);

// Whether the outlet's filters (languages, categories, sources) let the item through.
// What submit() needs of an outlet, on the caller's thread: its format and filters (the rest
// of the configuration lives on the outlet's shard only; a copy here would cost every idle
// outlet its URL, headers and secret twice).
struct outlet_filter {
  payload_format format = payload_format::webhook;
  std::vector<std::string> languages, categories, sources;
  outlet_filter() = default;
  explicit outlet_filter(const outlet_config& o)
      : format(o.format), languages(o.languages), categories(o.categories), sources(o.sources) {}
};
bool wants(const outlet_filter& o, const formats::feed& source, const formats::item& it);

}  // namespace syndic::engine::detail
