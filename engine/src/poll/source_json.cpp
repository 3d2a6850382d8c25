// A source as JSON, and back through the sources file's field rules.

#include "poll/source_json.hpp"

#include "cli/json_string.hpp"

#include <syndic/engine/outlet.hpp>

#include <simdjson.h>

namespace syndic::poll {
namespace {

using cli::json_string;

bool plain_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string key_error(std::string_view key, const std::string& message) {
  return "key '" + std::string(key) + "': " + message;
}

// An interval as JSON: integer seconds, or a string with a unit.
std::string set_interval(source& s, std::string_view key, simdjson::dom::element v) {
  std::string cell;
  std::int64_t i = 0;
  std::string_view str;
  if (!v.get_int64().get(i)) cell = std::to_string(i);
  else if (!v.get_string().get(str)) cell = std::string(str);
  else return key_error(key, "integer seconds, or a string such as \"5m\"");
  if (std::string e = set_source_field(s, key, cell); !e.empty()) return key_error(key, e);
  return {};
}

std::string set_headers(source& s, simdjson::dom::element v) {
  std::vector<std::pair<std::string, std::string>> headers;
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (!v.get_object().get(obj)) {
    for (auto field : obj) {
      std::string_view value;
      if (field.value.get_string().get(value))
        return key_error("headers", "header values are strings");
      headers.emplace_back(std::string(field.key), std::string(value));
    }
  } else if (!v.get_array().get(arr)) {
    for (auto e : arr) {
      std::string_view item;
      if (e.get_string().get(item)) return key_error("headers", "a list of \"Name: value\" strings");
      auto colon = item.find(':');
      if (colon == std::string_view::npos || colon == 0)
        return key_error("headers", "header " + std::to_string(headers.size() + 1) + " is not 'Name: value'");
      auto trim = [](std::string_view x) {
        while (!x.empty() && (x.front() == ' ' || x.front() == '\t')) x.remove_prefix(1);
        while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.remove_suffix(1);
        return x;
      };
      headers.emplace_back(std::string(trim(item.substr(0, colon))), std::string(trim(item.substr(colon + 1))));
    }
  } else {
    return key_error("headers", "an object of name to value, or a list of \"Name: value\" strings");
  }
  if (headers.size() > max_headers) return key_error("headers", "more than " + std::to_string(max_headers));
  for (const auto& [name, value] : headers)
    if (std::string e = check_header_entry(name, value); !e.empty()) return key_error("headers", e);
  s.headers = std::move(headers);
  return {};
}

std::string set_tags(source& s, simdjson::dom::element v) {
  simdjson::dom::array arr;
  if (v.get_array().get(arr)) return key_error("tags", "a list of strings");
  std::vector<std::string> tags;
  for (auto e : arr) {
    std::string_view t;
    if (e.get_string().get(t)) return key_error("tags", "a list of strings");
    if (std::string err = check_tag(t); !err.empty()) return key_error("tags", err);
    tags.emplace_back(t);
  }
  if (tags.size() > max_tags) return key_error("tags", "more than " + std::to_string(max_tags));
  s.tags = std::move(tags);
  return {};
}

}  // namespace

std::string source_to_json(const source& s, header_values values) {
  bool redact = values == header_values::redact;
  std::string out = "{\"id\":" + json_string(s.id) +
                    ",\"url\":" + json_string(redact ? engine::redact_userinfo(s.url) : s.url) +
                    ",\"channel\":" + json_string(s.channel) + ",\"tags\":[";
  for (std::size_t i = 0; i < s.tags.size(); ++i) out += (i ? "," : "") + json_string(s.tags[i]);
  out += "],\"min_interval\":" + std::to_string(s.min_interval.count()) +
         ",\"max_interval\":" + std::to_string(s.max_interval.count()) + ",\"headers\":{";
  for (std::size_t i = 0; i < s.headers.size(); ++i)
    out += (i ? "," : "") + json_string(s.headers[i].first) + ":" +
           json_string(redact ? redacted_value : std::string_view(s.headers[i].second));
  out += std::string("},\"enabled\":") + (s.enabled ? "true" : "false") +
         ",\"republish_updates\":" + (s.republish_updates ? "true" : "false") + "}";
  return out;
}

source source_from_json(std::string_view json, std::string& error, const source_defaults& defaults,
                        std::string_view id_from_path) {
  error.clear();
  source s;
  auto fail = [&](std::string why) {
    error = std::move(why);
    return source{};
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(json);
  if (auto e = parser.parse(padded).get(root); e)
    return fail(std::string("body is not valid JSON: ") + simdjson::error_message(e));
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return fail("a source is a JSON object");
  bool has_id = false, has_url = false, has_min = false, has_max = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    if (!plain_key(key) || !is_source_key(key))
      return fail(plain_key(key) ? key_error(key, "unknown key (known: " + known_source_keys() + ")")
                                 : "unknown key (known: " + known_source_keys() + ")");
    std::string e;
    if (key == "tags") {
      e = set_tags(s, v);
    } else if (key == "headers") {
      e = set_headers(s, v);
    } else if (key == "min_interval" || key == "max_interval") {
      (key == "min_interval" ? has_min : has_max) = true;
      e = set_interval(s, key, v);
    } else if (key == "enabled" || key == "republish_updates") {
      bool b = false;
      if (v.get_bool().get(b)) e = key_error(key, "true or false");
      else (key == "enabled" ? s.enabled : s.republish_updates) = b;
    } else if (key == "channel" && v.is_null()) {
      s.channel.clear();
    } else {  // id, url, channel: strings
      std::string_view str;
      if (v.get_string().get(str)) {
        e = key_error(key, "a string");
      } else if (key == "id" && !id_from_path.empty() && str != id_from_path) {
        e = key_error(key, "differs from the id in the path");
      } else if (std::string why = set_source_field(s, key, str); !why.empty()) {
        e = key_error(key, why);
      }
      has_id |= key == "id";
      has_url |= key == "url";
    }
    if (!e.empty()) return fail(std::move(e));
  }
  if (!has_id) {
    if (id_from_path.empty()) return fail("key 'id': required");
    if (std::string why = set_source_field(s, "id", id_from_path); !why.empty()) return fail(key_error("id", why));
  }
  if (!has_url) return fail("key 'url': required");
  apply_interval_defaults(s, has_min, has_max, defaults);
  if (std::string why = check_source(s, false); !why.empty()) return fail(std::move(why));
  s.origin = "api";
  return s;
}

}  // namespace syndic::poll
