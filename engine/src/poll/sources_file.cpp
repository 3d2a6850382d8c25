// Sources from CSV or TOML, with file:line errors. One setter per column serves both syntaxes
// and the API's JSON (source_json.cpp), as the outlets file does for outlets.

#include "poll/sources_file.hpp"
#include "daemon/text.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace syndic::poll {
namespace {

using std::chrono::seconds;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto semi = s.find(';');
    std::string_view part = trim(s.substr(0, semi));
    if (!part.empty()) out.emplace_back(part);
    if (semi == std::string_view::npos) break;
    s.remove_prefix(semi + 1);
  }
  return out;
}

bool boolean(std::string_view v, bool& into) {
  if (v == "true" || v == "yes" || v == "1") into = true;
  else if (v == "false" || v == "no" || v == "0") into = false;
  else return false;
  return true;
}


using setter = std::function<std::string(source&, std::string_view)>;

setter interval(seconds source::*field) {
  return [field](source& s, std::string_view v) -> std::string {
    auto n = parse_interval(v);
    if (!n) return "not an interval (seconds, or a number with s, m, h or d: 300, 5m, 1h) from 1 s to 30 days: " + daemon::quote_value(v);
    s.*field = *n;
    return {};
  };
}

setter flag(bool source::*field) {
  return [field](source& s, std::string_view v) -> std::string {
    if (!boolean(v, s.*field)) return "not true or false: " + daemon::quote_value(v);
    return {};
  };
}

const std::map<std::string, setter, std::less<>>& setters() {
  static const std::map<std::string, setter, std::less<>> m = {
      {"id", [](source& s, std::string_view v) -> std::string {
         source probe;
         probe.id = std::string(v);
         probe.url = "http://x/";
         if (std::string e = check_source(probe, true); e.starts_with("id:")) return "not an id (1 to 128 of [A-Za-z0-9._-]): " + daemon::quote_value(v);
         s.id = std::string(v);
         return {};
       }},
      {"url", [](source& s, std::string_view v) -> std::string {
         source probe;
         probe.id = "x";
         probe.url = std::string(v);
         std::string e = check_source(probe, true);
         if (!e.empty()) return e.substr(e.find("url: ") + 5);  // "source 'x': url: ..."
         s.url = std::string(v);
         return {};
       }},
      {"channel", [](source& s, std::string_view v) -> std::string {
         if (std::string e = check_channel(v); !e.empty()) return e + ": " + daemon::quote_value(v);
         s.channel = std::string(v);
         return {};
       }},
      {"min_interval", interval(&source::min_interval)},
      {"max_interval", interval(&source::max_interval)},
      {"tags", [](source& s, std::string_view v) -> std::string {
         auto tags = split_list(v);
         if (tags.size() > max_tags) return "more than " + std::to_string(max_tags) + " tags";
         for (const auto& t : tags)
           if (std::string e = check_tag(t); !e.empty()) return e + ": " + daemon::quote_value(t);
         s.tags = std::move(tags);
         return {};
       }},
      {"headers", [](source& s, std::string_view v) -> std::string {
         std::vector<std::pair<std::string, std::string>> headers;
         for (const std::string& h : split_list(v)) {
           // Values may be secrets (API keys): messages name the header, never quote the value.
           auto colon = h.find(':');
           if (colon == std::string::npos || colon == 0)
             return "header " + std::to_string(headers.size() + 1) + " is not 'Name: value'";
           std::string_view name = trim(std::string_view(h).substr(0, colon));
           std::string_view value = trim(std::string_view(h).substr(colon + 1));
           if (std::string e = check_header_entry(name, value); !e.empty()) return e;
           headers.emplace_back(std::string(name), std::string(value));
         }
         if (headers.size() > max_headers) return "more than " + std::to_string(max_headers) + " headers";
         s.headers = std::move(headers);
         return {};
       }},
      {"enabled", flag(&source::enabled)},
      {"republish_updates", flag(&source::republish_updates)},
  };
  return m;
}

const std::vector<std::string>& required() {
  static const std::vector<std::string> r{"id", "url"};
  return r;
}

bool is_required(std::string_view column) {
  return std::find(required().begin(), required().end(), column) != required().end();
}

// RFC 4180 fields of one record; quoted fields may hold commas, quotes ("") and newlines.
// Advances `pos` past the record; `line` counts the physical lines consumed. (The outlets
// file reads its CSV the same way.)
std::optional<std::vector<std::string>> csv_record(std::string_view text, std::size_t& pos, std::size_t& line,
                                                   std::string& error) {
  std::vector<std::string> fields(1);
  bool quoted = false, was_quoted = false;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
      continue;
    }
    if (c == '"' && trim(fields.back()).empty() && !was_quoted) {
      fields.back().clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '\n') {
      ++line;
      return fields;
    } else {
      fields.back() += c;
    }
  }
  if (quoted) {
    error = "a quoted field is not closed";
    return std::nullopt;
  }
  return fields;
}

// check_source's "source 'id': column: message" as a config_error's column and message.
engine::config_error whole_source_error(const std::string& file, std::size_t line, const source& s,
                                        const std::string& message) {
  std::string_view m = message;
  std::string prefix = "source '" + s.id + "': ";
  if (m.starts_with(prefix)) m.remove_prefix(prefix.size());
  auto end = m.find_first_of(": ");
  std::string column;
  if (end != std::string_view::npos && is_source_key(m.substr(0, end))) {
    column = std::string(m.substr(0, end));
    if (m.substr(end).starts_with(": ")) m.remove_prefix(end + 2);  // else the column starts the sentence
  }
  return {file, line, column, std::string(m)};
}

// After a row's cells were taken: defaults, the whole-source check, then the result.
void finish_row(sources_result& r, std::vector<std::size_t>& lines, source s, bool row_ok, bool has_min,
                bool has_max, const std::string& name, std::size_t line, const source_defaults& defaults) {
  if (!row_ok) return;
  apply_interval_defaults(s, has_min, has_max, defaults);
  if (std::string e = check_source(s, true); !e.empty()) {
    r.errors.push_back(whole_source_error(name, line, s, e));
    return;
  }
  s.origin = name + ":" + std::to_string(line);
  r.sources.push_back(std::move(s));
  lines.push_back(line);
}

void check_unique(sources_result& r, const std::string& name, const std::vector<std::size_t>& lines) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < r.sources.size(); ++i) {
    auto [it, fresh] = seen.emplace(r.sources[i].id, lines[i]);
    if (!fresh)
      r.errors.push_back({name, lines[i], "id",
                          "duplicate id '" + r.sources[i].id + "' (first on line " + std::to_string(it->second) + ")"});
  }
}

std::string read_file(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  if (!ok) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `strict`: a sources file, where anything but [[source]] tables is a mistake; otherwise the
// daemon's config file, whose settings sit beside them.
sources_result parse_toml(std::string_view text, const std::string& name, const source_defaults& defaults,
                          bool strict) {
  sources_result r;
  toml::table doc;
  try {
    doc = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    r.errors.push_back({name, e.source().begin.line, {}, std::string(e.description())});
    return r;
  }
  if (strict)
    for (const auto& [k, v] : doc)
      if (k.str() != "source")
        r.errors.push_back({name, k.source().begin.line ? k.source().begin.line : v.source().begin.line,
                            std::string(k.str()), "unknown key (a sources file holds [[source]] tables only)"});
  const toml::node* node = doc.get("source");
  if (!node) return r;
  const toml::array* list = node->as_array();
  if (!list) {
    r.errors.push_back({name, node->source().begin.line, "source",
                        "sources are written as [[source]] tables (an array of tables)"});
    return r;
  }
  std::vector<std::size_t> lines;
  for (const toml::node& n : *list) {
    const toml::table* t = n.as_table();
    std::size_t line = n.source().begin.line;
    if (!t) {
      r.errors.push_back({name, line, {}, "a source must be a table ([[source]])"});
      continue;
    }
    source s;
    bool row_ok = true;
    for (const auto& req : required())
      if (!t->contains(req)) {
        r.errors.push_back({name, line, req, "required key is missing"});
        row_ok = false;
      }
    for (const auto& [key, value] : *t) {
      std::size_t vline = value.source().begin.line;
      auto set = setters().find(key.str());
      if (set == setters().end()) {
        r.errors.push_back({name, vline, std::string(key.str()), "unknown key (known: " + known_source_keys() + ")"});
        row_ok = false;
        continue;
      }
      // Scalars and arrays of strings become the CSV cell form, so one setter checks both.
      std::string cell;
      if (auto str = value.value_exact<std::string>()) {
        cell = *str;
      } else if (auto i = value.value_exact<std::int64_t>()) {
        cell = std::to_string(*i);
      } else if (auto b = value.value_exact<bool>()) {
        cell = *b ? "true" : "false";
      } else if (const toml::array* a = value.as_array()) {
        bool strings = true;
        for (const auto& e : *a) {
          auto v = e.value_exact<std::string>();
          if (!v || v->find(';') != std::string::npos) {
            strings = false;
            break;
          }
          if (!cell.empty()) cell += ';';
          cell += *v;
        }
        if (!strings) {
          r.errors.push_back({name, vline, std::string(key.str()), "a list must hold strings only (without ';')"});
          row_ok = false;
          continue;
        }
      } else {
        r.errors.push_back({name, vline, std::string(key.str()),
                            "unsupported value type (a string, an integer, true/false or a list of strings)"});
        row_ok = false;
        continue;
      }
      std::string_view v = trim(cell);
      if (v.empty() && is_required(key.str())) {
        r.errors.push_back({name, vline, std::string(key.str()), "required value is empty"});
        row_ok = false;
        continue;
      }
      if (std::string msg = set->second(s, v); !msg.empty()) {
        r.errors.push_back({name, vline, std::string(key.str()), msg});
        row_ok = false;
      }
    }
    finish_row(r, lines, std::move(s), row_ok, t->contains("min_interval"), t->contains("max_interval"), name, line,
               defaults);
  }
  check_unique(r, name, lines);
  if (!r.ok()) r.sources.clear();
  return r;
}

}  // namespace

std::optional<seconds> parse_interval(std::string_view text) {
  std::string_view v = trim(text);
  std::uint64_t unit = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 's': unit = 1; v.remove_suffix(1); break;
      case 'm': unit = 60; v.remove_suffix(1); break;
      case 'h': unit = 3600; v.remove_suffix(1); break;
      case 'd': unit = 86400; v.remove_suffix(1); break;
      default: break;
    }
  }
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  if (n > static_cast<std::uint64_t>(max_poll_interval.count()) / unit) return std::nullopt;
  seconds s(static_cast<seconds::rep>(n * unit));
  if (s < min_poll_interval || s > max_poll_interval) return std::nullopt;
  return s;
}

void apply_interval_defaults(source& s, bool has_min, bool has_max, const source_defaults& d) {
  if (!has_min) s.min_interval = d.min_interval;
  if (!has_max) s.max_interval = d.max_interval;
  if (has_min && !has_max && s.max_interval < s.min_interval) s.max_interval = s.min_interval;
  if (has_max && !has_min && s.min_interval > s.max_interval) s.min_interval = s.max_interval;
}

bool is_source_key(std::string_view key) { return setters().contains(key); }

std::string known_source_keys() {
  std::string all;
  for (const auto& [column, set] : setters()) all += (all.empty() ? "" : ", ") + column;
  return all;
}

std::string set_source_field(source& s, std::string_view key, std::string_view cell) {
  auto set = setters().find(key);
  if (set == setters().end()) return "unknown key (known: " + known_source_keys() + ")";
  return set->second(s, cell);
}

sources_result parse_sources_csv(std::string_view text, const std::string& name, const source_defaults& defaults) {
  sources_result r;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t pos = 0, line = 1;
  std::string error;
  auto header = csv_record(text, pos, line, error);
  if (!header || (header->size() == 1 && trim((*header)[0]).empty())) {
    r.errors.push_back(
        {name, 1, {}, header ? "empty file: expected a header row naming the columns (id,url,...)" : error});
    return r;
  }
  std::vector<std::string> columns;
  for (auto& h : *header) columns.emplace_back(trim(h));
  std::set<std::string> seen_columns;
  for (const auto& c : columns) {
    if (!setters().contains(c))
      r.errors.push_back({name, 1, c, "unknown column (known: " + known_source_keys() + ")"});
    else if (!seen_columns.insert(c).second)
      r.errors.push_back({name, 1, c, "column named twice"});
  }
  for (const auto& req : required())
    if (!seen_columns.contains(req)) r.errors.push_back({name, 1, req, "required column is missing"});
  if (!r.ok()) return r;

  std::vector<std::size_t> lines;
  while (pos < text.size()) {
    std::size_t row_line = line;
    auto fields = csv_record(text, pos, line, error);
    if (!fields) {
      r.errors.push_back({name, row_line, {}, error});
      break;
    }
    if (fields->size() == 1 && trim((*fields)[0]).empty()) continue;  // blank line
    if (trim((*fields)[0]).starts_with('#')) continue;                 // comment
    if (fields->size() != columns.size()) {
      r.errors.push_back({name, row_line, {},
                          std::to_string(fields->size()) + " fields, the header has " + std::to_string(columns.size())});
      continue;
    }
    source s;
    bool row_ok = true, has_min = false, has_max = false;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      std::string_view v = trim((*fields)[i]);
      if (v.empty() && !is_required(columns[i])) continue;  // empty cell: the default
      if (v.empty()) {
        r.errors.push_back({name, row_line, columns[i], "required value is empty"});
        row_ok = false;
        continue;
      }
      has_min |= columns[i] == "min_interval";
      has_max |= columns[i] == "max_interval";
      if (std::string msg = setters().at(columns[i])(s, v); !msg.empty()) {
        r.errors.push_back({name, row_line, columns[i], msg});
        row_ok = false;
      }
    }
    finish_row(r, lines, std::move(s), row_ok, has_min, has_max, name, row_line, defaults);
  }
  check_unique(r, name, lines);
  if (!r.ok()) r.sources.clear();
  return r;
}

sources_result parse_sources_toml(std::string_view text, const std::string& name, const source_defaults& defaults) {
  return parse_toml(text, name, defaults, true);
}

sources_result load_sources(const std::string& path, const source_defaults& defaults) {
  bool ok = false;
  std::string text = read_file(path, ok);
  if (!ok) {
    sources_result r;
    r.errors.push_back({path, 0, {}, "cannot open the file"});
    return r;
  }
  bool toml = path.size() > 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
  return toml ? parse_sources_toml(text, path, defaults) : parse_sources_csv(text, path, defaults);
}

sources_result load_sources_from_config(const std::string& path, const source_defaults& defaults) {
  bool ok = false;
  std::string text = read_file(path, ok);
  if (!ok) {
    sources_result r;
    r.errors.push_back({path, 0, {}, "cannot open the file"});
    return r;
  }
  return parse_toml(text, path, defaults, false);
}

sources_result load_file_sources(const std::string& config_path, const std::string& sources_path,
                                 const source_defaults& defaults) {
  sources_result r;
  if (!config_path.empty()) r = load_sources_from_config(config_path, defaults);
  if (!sources_path.empty()) {
    sources_result more = load_sources(sources_path, defaults);
    std::map<std::string, std::string> seen;
    for (const auto& s : r.sources) seen.emplace(s.id, s.origin);
    for (const auto& s : more.sources)
      if (auto it = seen.find(s.id); it != seen.end()) {
        auto colon = s.origin.rfind(':');
        std::size_t line = 0;
        std::from_chars(s.origin.data() + colon + 1, s.origin.data() + s.origin.size(), line);
        more.errors.push_back({sources_path, line, "id", "duplicate id '" + s.id + "' (also in " + it->second + ")"});
      }
    r.errors.insert(r.errors.end(), more.errors.begin(), more.errors.end());
    r.sources.insert(r.sources.end(), std::make_move_iterator(more.sources.begin()),
                     std::make_move_iterator(more.sources.end()));
  }
  if (!r.ok()) r.sources.clear();
  return r;
}

}  // namespace syndic::poll
