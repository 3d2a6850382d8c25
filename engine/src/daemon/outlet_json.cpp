#include "daemon/outlet_json.hpp"

#include "daemon/ssrf.hpp"

#include <simdjson.h>

#include <cstdio>

namespace syndic::daemon {
namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
void toml_string(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

bool plain_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

outlet_json_result outlet_from_json(std::string_view body, const std::string& id_from_path) {
  outlet_json_result r;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(body);
  if (auto e = parser.parse(padded).get(root); e) {
    r.error = std::string("body is not valid JSON: ") + simdjson::error_message(e);
    return r;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    r.error = "an outlet is a JSON object";
    return r;
  }
  std::string toml = "[[outlet]]\n";
  bool has_id = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    if (!plain_key(key)) {
      r.error = "unknown key (keys are the outlets file's columns)";
      return r;
    }
    if (key == "id") {
      has_id = true;
      std::string_view id;
      if (field.value.get_string().get(id)) {
        r.error = "key 'id': a string";
        return r;
      }
      if (!id_from_path.empty() && id != id_from_path) {
        r.error = "key 'id': differs from the id in the path";
        return r;
      }
    }
    toml += key;
    toml += " = ";
    simdjson::dom::element v = field.value;
    switch (v.type()) {
      case simdjson::dom::element_type::STRING: toml_string(std::string_view(v.get_string()), toml); break;
      case simdjson::dom::element_type::INT64: toml += std::to_string(std::int64_t(v.get_int64())); break;
      case simdjson::dom::element_type::UINT64: toml += std::to_string(std::uint64_t(v.get_uint64())); break;
      case simdjson::dom::element_type::DOUBLE: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", double(v.get_double()));
        std::string d = buf;
        if (d.find_first_of(".eEn") == std::string::npos) d += ".0";  // TOML floats need a dot
        toml += d;
        break;
      }
      case simdjson::dom::element_type::BOOL: toml += bool(v.get_bool()) ? "true" : "false"; break;
      case simdjson::dom::element_type::ARRAY: {
        toml += '[';
        bool first = true;
        for (auto e : v.get_array()) {
          std::string_view s;
          if (e.get_string().get(s)) {
            r.error = "key '" + std::string(key) + "': a list of strings";
            return r;
          }
          if (!first) toml += ", ";
          first = false;
          toml_string(s, toml);
        }
        toml += ']';
        break;
      }
      default:
        r.error = "key '" + std::string(key) + "': a string, number, boolean or list of strings";
        return r;
    }
    toml += '\n';
  }
  if (!has_id && !id_from_path.empty()) {
    toml += "id = ";
    toml_string(id_from_path, toml);
    toml += '\n';
  }
  auto parsed = engine::parse_outlets_toml(toml, "outlet");
  if (!parsed.ok()) {
    const auto& e = parsed.errors.front();
    r.error = e.column.empty() ? e.message : "key '" + e.column + "': " + e.message;
    return r;
  }
  r.outlet = std::move(parsed.outlets.front());
  if (std::string e = engine::prepare_outlet(r.outlet); !e.empty()) r.error = e;
  return r;
}

std::string private_target_refusal(const engine::parsed_url& endpoint) {
  target_check c = check_host(endpoint.host);
  if (c) return {};
  return "refused: " + c.reason + " (an outlet added through the API may not reach loopback, private, link-local "
         "or metadata addresses; the operator can allow them with allow_private_targets)";
}

}  // namespace syndic::daemon
