#include "render_common.hpp"

#include "namespaces.hpp"
#include "text.hpp"

#include <syndic/formats/render.hpp>

#include <cstdio>

namespace syndic::formats {

std::optional<output_format> output_format_from_string(std::string_view name) {
  if (name == "rss") return output_format::rss;
  if (name == "atom") return output_format::atom;
  if (name == "json" || name == "jsonfeed") return output_format::json;
  return std::nullopt;
}

std::string_view to_string(output_format f) {
  switch (f) {
    case output_format::rss: return "rss";
    case output_format::atom: return "atom";
    case output_format::json: return "json";
  }
  return "?";
}

std::string_view content_type(output_format f) {
  switch (f) {
    case output_format::rss: return "application/rss+xml; charset=utf-8";
    case output_format::atom: return "application/atom+xml; charset=utf-8";
    case output_format::json: return "application/feed+json; charset=utf-8";
  }
  return "application/octet-stream";
}

std::string render(const feed& f, output_format format) {
  std::string out;
  switch (format) {
    case output_format::rss: render_rss(f, out); break;
    case output_format::atom: render_atom(f, out); break;
    case output_format::json: render_json(f, out); break;
  }
  return out;
}

std::string synthesized_item_id(const item& it) {
  if (!it.id.empty()) return it.id;
  if (!it.url().empty()) return std::string(it.url());
  return "urn:syndic:item:" + detail::hex_hash(it.title, it.summary, it.content);
}

std::string synthesized_feed_id(const feed& f) {
  if (!f.id.empty()) return f.id;
  if (!f.self_link.empty()) return f.self_link;
  if (!f.link.empty()) return f.link;
  return "urn:syndic:feed:" + detail::hex_hash(f.title, f.description, {});
}

namespace detail {

std::string hex_hash(std::string_view a, std::string_view b, std::string_view c) {
  // FNV-1a, 64 bit: stable across runs and machines, which is all an id needs here.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::string_view part : {a, b, c}) {
    for (unsigned char ch : part) h = (h ^ ch) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;  // separator, so ("ab","c") != ("a","bc")
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

prefix_map::prefix_map(const feed& f, std::initializer_list<std::string_view> predeclared) {
  for (auto uri : predeclared) map_.emplace_back(std::string(uri), std::string(ns::customary_prefix(uri)));
  predeclared_ = map_.size();
  collect(f.extensions);
  for (const auto& it : f.items) collect(it.extensions);
}

void prefix_map::collect(const std::vector<extension>& xs) {
  for (const auto& x : xs) {
    auto add = [&](std::string_view uri) {
      if (uri.empty()) return;
      for (const auto& [u, p] : map_)
        if (u == uri) return;
      std::string p(ns::customary_prefix(uri));
      for (const auto& entry : map_)
        if (entry.second == p) p.clear();  // customary prefix taken by another URI
      if (p.empty()) p = "ns" + std::to_string(map_.size() + 1);
      map_.emplace_back(std::string(uri), std::move(p));
    };
    add(x.ns);
    for (const auto& [k, v] : x.attributes)
      if (k.starts_with('{')) add(std::string_view(k).substr(1, k.find('}') - 1));
    collect(x.children);
  }
}

std::string_view prefix_map::prefix(std::string_view uri) const {
  for (const auto& [u, p] : map_)
    if (u == uri) return p;
  return {};
}

void prefix_map::declare(std::string& out) const {
  for (std::size_t i = predeclared_; i < map_.size(); ++i) {
    out += " xmlns:";
    out += map_[i].second;
    out += "=\"";
    append_xml_attr_escaped(out, map_[i].first);
    out += '"';
  }
}

void write_extension(std::string& out, const extension& x, const prefix_map& prefixes,
                     bool default_ns) {
  std::string name;
  if (!x.ns.empty()) {
    name = prefixes.prefix(x.ns);
    name += ':';
  }
  name += x.name;
  out += '<';
  out += name;
  if (x.ns.empty() && default_ns) out += " xmlns=\"\"";
  for (const auto& [k, v] : x.attributes) {
    if (k.starts_with('{')) {
      auto close = k.find('}');
      std::string qn(prefixes.prefix(std::string_view(k).substr(1, close - 1)));
      qn += ':';
      qn += std::string_view(k).substr(close + 1);
      attribute(out, qn, v);
    } else {
      attribute(out, k, v);
    }
  }
  if (x.value.empty() && x.children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  append_xml_escaped(out, x.value);
  for (const auto& c : x.children) write_extension(out, c, prefixes, default_ns);
  out += "</";
  out += name;
  out += '>';
}

void element(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += '<';
  out += name;
  out += '>';
  append_xml_escaped(out, value);
  out += "</";
  out += name;
  out += ">\n";
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml_attr_escaped(out, value);
  out += '"';
}

void write_media(std::string& out, std::string_view name, const media_object& m) {
  out += '<';
  out += name;
  attribute(out, "url", m.url);
  if (!m.type.empty()) attribute(out, "type", m.type);
  if (!m.medium.empty()) attribute(out, "medium", m.medium);
  if (m.width) attribute(out, "width", std::to_string(*m.width));
  if (m.height) attribute(out, "height", std::to_string(*m.height));
  out += "/>\n";
}

std::string as_html(std::string_view value, text_type type) {
  if (type != text_type::text) return std::string(value);
  std::string out;
  append_xml_escaped(out, value);
  return out;
}

std::string as_text(std::string_view value, text_type type) {
  if (type == text_type::text) return std::string(value);
  std::string stripped;
  bool in_tag = false;
  for (char c : value) {
    if (c == '<') in_tag = true;
    else if (c == '>' && in_tag) in_tag = false;
    else if (!in_tag) stripped += c;
  }
  std::string out;
  decode_entities(stripped, out);
  return out;
}

}  // namespace detail
}  // namespace syndic::formats
