#include "daemon/item_codec.hpp"

#include "delivery/payload.hpp"

#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

namespace syndic::daemon {

engine::log_entry encode_item(const formats::feed& source, const formats::item& it, std::string channel,
                              std::string origin) {
  formats::feed one = engine::detail::header_of(source);
  one.items.push_back(it);
  engine::log_entry e;
  e.item_id = formats::synthesized_item_id(it);
  e.source = std::move(origin);
  e.channel = std::move(channel);
  e.content_type = std::string(item_content_type);
  formats::render_json(one, e.payload);
  e.received = engine::store_clock::now();
  return e;
}

std::shared_ptr<const formats::feed> decode_item(const engine::log_record& record, std::string& error) {
  if (record.content_type != item_content_type) {
    error = "record " + std::to_string(record.seq) + ": unknown content type";
    return nullptr;
  }
  formats::parse_result r = formats::parse_json(record.payload);
  if (!r.value || r.value->items.size() != 1) {
    error = "record " + std::to_string(record.seq) + ": not a one-item JSON Feed";
    return nullptr;
  }
  return std::make_shared<const formats::feed>(std::move(*r.value));
}

}  // namespace syndic::daemon
