#include "testkit/count_items.hpp"

#include <syndic/formats/parse.hpp>

#include <simdjson.h>

namespace syndic::testkit::detail {
namespace {

std::uint64_t count_json_items(std::string_view body) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string copy(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(copy).get(doc)) return 1;
  simdjson::ondemand::object top;
  if (doc.get_object().get(top)) return 1;
  // The envelope's `data` is the feed; a bare JSON Feed is its own.
  simdjson::ondemand::object feed;
  if (top.find_field_unordered("data").get_object().get(feed)) feed = top;
  simdjson::ondemand::array items;
  if (feed.find_field_unordered("items").get_array().get(items)) return 1;
  std::size_t n = 0;
  if (items.count_elements().get(n)) return 1;
  return n;
}

}  // namespace

std::uint64_t count_items(std::string_view body) {
  switch (formats::detect_input_kind(body)) {
    case formats::input_kind::json: return count_json_items(body);
    case formats::input_kind::xml: {
      auto r = formats::parse_xml(body);
      return r.value && !r.value->items.empty() ? r.value->items.size() : 1;
    }
    case formats::input_kind::unknown: break;
  }
  return 1;
}

}  // namespace syndic::testkit::detail
