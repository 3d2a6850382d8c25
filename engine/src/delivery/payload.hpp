#pragma once
// What an outlet receives for one item: rendered once per payload format, shared (read-only)
// by every outlet of that format on every shard.

#include <syndic/engine/outlet.hpp>
#include <syndic/formats/model.hpp>

#include <array>
#include <memory>
#include <string>

namespace syndic::engine::detail {

struct payload {
  std::string item_id;
  std::string body;
  std::string_view content_type;
  std::int64_t created_unix = 0;  // the webhook-timestamp base
  std::string topic;              // WebSub: the feed's self link
  std::string hub;
};

// One payload per format, rendered lazily: formats no outlet wants are never rendered.
class payload_set {
public:
  payload_set(const formats::feed& source, const formats::item& it, std::int64_t now_unix);
  std::shared_ptr<const payload> get(payload_format f);

private:
  const formats::feed& source_;
  const formats::item& item_;
  std::int64_t now_;
  std::array<std::shared_ptr<const payload>, 5> rendered_;
};

// Whether the outlet's filters (languages, categories, sources) let the item through.
bool wants(const outlet_config& o, const formats::feed& source, const formats::item& it);

}  // namespace syndic::engine::detail
