// Outlets from CSV or TOML, with file:line errors. One setter per column serves both syntaxes.

#include <syndic/engine/outlet.hpp>
#include <syndic/engine/signer.hpp>

#include "delivery/ids.hpp"

#include <boost/url/parse.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace syndic::engine {
namespace {

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

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool boolean(std::string_view v, bool& into) {
  if (v == "true" || v == "yes" || v == "1") into = true;
  else if (v == "false" || v == "no" || v == "0") into = false;
  else return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// A rate below one request a day is a typo (and used to overflow the token bucket's wait).
constexpr double min_rate = 1.0 / 86400;

std::string check_rate(double r) {
  if (!std::isfinite(r) || r < 0 || (r > 0 && r < min_rate))
    return "not a rate (0 for unlimited, or requests/s from 1/86400 = one a day)";
  return {};
}

// Never quotes the secret.
std::string check_secret(std::string_view v) {
  if (v.starts_with("whsec_") && !webhook_secret_is_valid(v))
    return "a whsec_ secret must be base64 after the prefix (Standard Webhooks); this one is not";
  return {};
}

std::string check_header(std::string_view name, std::string_view value) {
  if (name.empty()) return "a header has an empty name";
  for (char c : name)
    if (c <= ' ' || c >= 127 || c == ':') return "bad header name '" + std::string(name) + "'";
  // Framing headers would desync a connection that outlets share (Content-Length against
  // the body we send, a second Host); signature headers would contradict the ones we compute.
  static constexpr std::string_view reserved[] = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
      "upgrade", "expect", "proxy-connection", "webhook-id", "webhook-timestamp",
      "webhook-signature", "x-hub-signature", "x-hub-signature-256"};
  for (std::string_view r : reserved)
    if (iequals(name, r)) return "header '" + std::string(name) + "' is set by syndic itself and cannot be configured";
  for (char c : value)
    if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 127)
      return "header '" + std::string(name) + "' has a line break, NUL or other control character in its value";
  return {};
}

// A column's setter returns an error message, or empty when the value was taken.
using setter = std::function<std::string(outlet_config&, std::string_view)>;

// A setter for a duration in milliseconds, at least `min`.
setter milliseconds(std::chrono::milliseconds retry_settings::*field, std::uint64_t min) {
  return [field, min](outlet_config& o, std::string_view v) -> std::string {
    auto n = number<std::uint64_t>(v);
    if (!n || *n < min || *n > 366ull * 24 * 3600 * 1000)
      return "not a number of milliseconds (>= " + std::to_string(min) + "): '" + std::string(v) + "'";
    o.retry.*field = std::chrono::milliseconds(*n);
    return {};
  };
}

const std::map<std::string, setter, std::less<>>& setters() {
  static const std::map<std::string, setter, std::less<>> m = {
      {"id", [](outlet_config& o, std::string_view v) -> std::string {
         if (v.empty()) return "must not be empty";
         o.id = std::string(v);
         return {};
       }},
      {"url", [](outlet_config& o, std::string_view v) -> std::string {
         std::string error;
         auto u = parse_outlet_url(v, error);
         if (!u) return error;
         o.url = std::string(v);
         o.endpoint = std::move(*u);
         return {};
       }},
      {"format", [](outlet_config& o, std::string_view v) -> std::string {
         auto f = payload_format_from_string(v);
         if (!f) return "unknown format '" + std::string(v) + "' (webhook, jsonfeed, atom, rss, websub)";
         o.format = *f;
         return {};
       }},
      {"secret", [](outlet_config& o, std::string_view v) -> std::string {
         if (std::string e = check_secret(v); !e.empty()) return e;
         o.secret = std::string(v);
         return {};
       }},
      {"rate", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<double>(v);
         if (!n || !check_rate(*n).empty()) return check_rate(n.value_or(-1)) + ": '" + std::string(v) + "'";
         o.rate = *n;
         return {};
       }},
      {"follow_redirects", [](outlet_config& o, std::string_view v) -> std::string {
         if (!boolean(v, o.follow_redirects)) return "not true or false: '" + std::string(v) + "'";
         return {};
       }},
      {"http2", [](outlet_config& o, std::string_view v) -> std::string {
         if (!boolean(v, o.http2)) return "not true or false: '" + std::string(v) + "'";
         return {};
       }},
      {"burst", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<double>(v);
         if (!n || !std::isfinite(*n) || *n < 1) return "not a burst (>= 1): '" + std::string(v) + "'";
         o.burst = *n;
         return {};
       }},
      {"max_in_flight", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<std::uint32_t>(v);
         if (!n || *n == 0) return "not a positive integer: '" + std::string(v) + "'";
         o.max_in_flight = *n;
         return {};
       }},
      {"batch", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<std::uint32_t>(v);
         if (!n || *n == 0) return "not a positive integer: '" + std::string(v) + "'";
         o.batch = *n;
         return {};
       }},
      {"ordered", [](outlet_config& o, std::string_view v) -> std::string {
         if (!boolean(v, o.ordered)) return "not true or false: '" + std::string(v) + "'";
         return {};
       }},
      {"timeout_ms", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<std::uint32_t>(v);
         if (!n || *n == 0) return "not a positive number of milliseconds: '" + std::string(v) + "'";
         o.timeout = std::chrono::milliseconds(*n);
         return {};
       }},
      {"languages", [](outlet_config& o, std::string_view v) -> std::string {
         o.languages = split_list(v);
         return {};
       }},
      {"categories", [](outlet_config& o, std::string_view v) -> std::string {
         o.categories = split_list(v);
         return {};
       }},
      {"sources", [](outlet_config& o, std::string_view v) -> std::string {
         o.sources = split_list(v);
         return {};
       }},
      // The retry policy (retry_policy.hpp): full-jitter backoff and its bounds.
      {"retry_base_ms", milliseconds(&retry_settings::base, 1)},
      {"retry_cap_ms", milliseconds(&retry_settings::cap, 1)},
      {"retry_max_age_ms", milliseconds(&retry_settings::max_age, 0)},
      {"retry_after_max_ms", milliseconds(&retry_settings::max_retry_after, 0)},
      {"retry_factor", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<double>(v);
         if (!n || !std::isfinite(*n) || *n < 1 || *n > 100) return "not a factor (1 to 100): '" + std::string(v) + "'";
         o.retry.factor = *n;
         return {};
       }},
      {"retry_max_attempts", [](outlet_config& o, std::string_view v) -> std::string {
         auto n = number<std::uint32_t>(v);
         if (!n || *n == 0) return "not a positive integer: '" + std::string(v) + "'";
         o.retry.max_attempts = *n;
         return {};
       }},
      {"headers", [](outlet_config& o, std::string_view v) -> std::string {
         for (const std::string& h : split_list(v)) {
           // Values may be secrets (API keys): messages name the header, never quote the value.
           auto colon = h.find(':');
           if (colon == std::string::npos || colon == 0)
             return "header " + std::to_string(o.headers.size() + 1) + " is not 'Name: value'";
           std::string_view name = trim(std::string_view(h).substr(0, colon));
           std::string_view value = trim(std::string_view(h).substr(colon + 1));
           if (std::string e = check_header(name, value); !e.empty()) return e;
           o.headers.emplace_back(std::string(name), std::string(value));
         }
         return {};
       }},
  };
  return m;
}

std::string known_columns() {
  std::string all;
  for (const auto& [column, set] : setters()) all += (all.empty() ? "" : ", ") + column;
  return all;
}

const std::vector<std::string>& required() {
  static const std::vector<std::string> r{"id", "url", "format"};
  return r;
}

// RFC 4180 fields of one record; quoted fields may hold commas, quotes ("") and newlines.
// Advances `pos` past the record; `line` counts the physical lines consumed.
std::optional<std::vector<std::string>> csv_record(std::string_view text, std::size_t& pos,
                                                   std::size_t& line, std::string& error) {
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

void check_unique(outlets_result& r, const std::string& name,
                  const std::vector<std::size_t>& lines) {
  std::unordered_map<std::string_view, std::size_t> seen;  // views of r.outlets' ids, unchanged here
  seen.reserve(r.outlets.size());
  for (std::size_t i = 0; i < r.outlets.size(); ++i) {
    auto [it, fresh] = seen.emplace(r.outlets[i].id, lines[i]);
    if (!fresh)
      r.errors.push_back({name, lines[i], "id",
                          "duplicate id '" + r.outlets[i].id + "' (first on line " +
                              std::to_string(it->second) + ")"});
  }
}

}  // namespace

std::optional<payload_format> payload_format_from_string(std::string_view n) {
  if (n == "webhook") return payload_format::webhook;
  if (n == "jsonfeed") return payload_format::jsonfeed;
  if (n == "atom") return payload_format::atom;
  if (n == "rss") return payload_format::rss;
  if (n == "websub") return payload_format::websub;
  return std::nullopt;
}

std::string_view to_string(payload_format f) {
  switch (f) {
    case payload_format::webhook: return "webhook";
    case payload_format::jsonfeed: return "jsonfeed";
    case payload_format::atom: return "atom";
    case payload_format::rss: return "rss";
    case payload_format::websub: return "websub";
  }
  return "?";
}

std::string redact_userinfo(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    auto scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    std::size_t start = scheme_end + 3;
    std::size_t end = text.find_first_of("/?# \t\r\n\"'<>", start);
    if (end == std::string_view::npos) end = text.size();
    auto at = text.substr(start, end - start).rfind('@');
    out.append(text.substr(pos, start - pos));
    if (at != std::string_view::npos) {
      out += "***";
      out.append(text.substr(start + at, end - start - at));
    } else {
      out.append(text.substr(start, end - start));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::optional<parsed_url> parse_outlet_url(std::string_view url, std::string& error) {
  auto quoted = [&] { return ": '" + redact_userinfo(url) + "'"; };
  auto u = boost::urls::parse_uri(url);
  if (!u) {
    error = "not a URL" + quoted();
    return std::nullopt;
  }
  parsed_url p;
  std::uint16_t default_port = 0;
  if (u->scheme_id() == boost::urls::scheme::http) {
    p.scheme = "http";
    default_port = 80;
  } else if (u->scheme_id() == boost::urls::scheme::https) {
    p.scheme = "https";
    default_port = 443;
  } else {
    error = "scheme must be http or https" + quoted();
    return std::nullopt;
  }
  switch (u->host_type()) {
    case boost::urls::host_type::ipv4: p.host = u->host_ipv4_address().to_string(); break;
    case boost::urls::host_type::ipv6: p.host = u->host_ipv6_address().to_string(); break;
    case boost::urls::host_type::name: p.host = u->host_name(); break;
    default: break;
  }
  if (p.host.empty()) {
    error = "no host" + quoted();
    return std::nullopt;
  }
  if (u->host_type() == boost::urls::host_type::name)
    for (char c : p.host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        error = "host name must be ASCII letters, digits, '-', '.' or '_' (IDNs in their xn-- form)" + quoted();
        return std::nullopt;
      }
  p.port = default_port;
  if (u->has_port() && !u->port().empty()) {
    auto n = number<std::uint32_t>(u->port());
    if (!n || *n == 0 || *n > 65535) {
      error = "port must be 1 to 65535" + quoted();
      return std::nullopt;
    }
    p.port = static_cast<std::uint16_t>(*n);
  }
  p.target = std::string(u->encoded_path());
  if (p.target.empty()) p.target = "/";
  if (u->has_query()) p.target += "?" + std::string(u->encoded_query());
  if (u->has_userinfo()) p.userinfo = std::string(u->encoded_userinfo());
  p.source_hash = detail::fnv1a(url);
  return p;
}

std::string prepare_outlet(outlet_config& o) {
  std::string where = "outlet '" + o.id + "': ";
  if (o.id.empty()) return "an outlet needs an id";
  // Parts already parsed from this very URL (the outlets file parses as it reads) are kept.
  std::optional<parsed_url> u;
  if (o.endpoint.empty() || o.endpoint.source_hash != detail::fnv1a(o.url)) {
    std::string error;
    u = parse_outlet_url(o.url, error);
    if (!u) return where + "url: " + error;
  }
  for (const auto& [name, value] : o.headers)
    if (std::string e = check_header(name, value); !e.empty()) return where + "headers: " + e;
  if (std::string e = check_secret(o.secret); !e.empty()) return where + "secret: " + e;
  if (std::string e = check_rate(o.rate); !e.empty()) return where + "rate: " + e;
  if (u) o.endpoint = std::move(*u);
  return {};
}

std::string config_error::to_string() const {
  std::string s = file;
  if (line) s += ":" + std::to_string(line);
  s += ": ";
  if (!column.empty()) s += "column '" + column + "': ";
  return s + message;
}

outlets_result parse_outlets_csv(std::string_view text, const std::string& name) {
  outlets_result r;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t pos = 0, line = 1;
  std::string error;
  auto header = csv_record(text, pos, line, error);
  if (!header || (header->size() == 1 && trim((*header)[0]).empty())) {
    r.errors.push_back({name, 1, {}, header ? "empty file: expected a header row naming the columns (id,url,format,...)" : error});
    return r;
  }
  std::vector<std::string> columns;
  for (auto& h : *header) columns.emplace_back(trim(h));
  std::set<std::string> seen_columns;
  for (const auto& c : columns) {
    if (!setters().contains(c))
      r.errors.push_back({name, 1, c, "unknown column (known: " + known_columns() + ")"});
    else if (!seen_columns.insert(c).second)
      r.errors.push_back({name, 1, c, "column named twice"});
  }
  for (const auto& req : required())
    if (!seen_columns.contains(req)) r.errors.push_back({name, 1, req, "required column is missing"});
  if (!r.ok()) return r;
  // Each column's setter and whether it is required, found once rather than once per cell.
  std::vector<const setter*> column_setters;
  std::vector<bool> column_required;
  for (const auto& c : columns) {
    column_setters.push_back(&setters().at(c));
    column_required.push_back(std::find(required().begin(), required().end(), c) != required().end());
  }
  // At most one outlet per line: reserved, so that no outlet is moved while the file is read;
  // bounded, since blank and comment lines count too (a file of newlines must not ask for
  // gigabytes), and past the bound the vector grows as usual.
  constexpr std::size_t max_reserved_outlets = 100'000;
  auto lines_left = static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(pos), text.end(), '\n'));
  r.outlets.reserve(std::min(lines_left + 1, max_reserved_outlets));

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
      r.errors.push_back({name, row_line, {}, std::to_string(fields->size()) + " fields, the header has " +
                                                  std::to_string(columns.size())});
      continue;
    }
    outlet_config o;
    bool row_ok = true;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      std::string_view v = trim((*fields)[i]);
      if (v.empty() && !column_required[i]) continue;  // empty cell: the default
      if (v.empty()) {
        r.errors.push_back({name, row_line, columns[i], "required value is empty"});
        row_ok = false;
        continue;
      }
      if (std::string msg = (*column_setters[i])(o, v); !msg.empty()) {
        r.errors.push_back({name, row_line, columns[i], msg});
        row_ok = false;
      }
    }
    if (row_ok) {
      r.outlets.push_back(std::move(o));
      lines.push_back(row_line);
    }
  }
  check_unique(r, name, lines);
  if (!r.ok()) r.outlets.clear();
  return r;
}

outlets_result parse_outlets_toml(std::string_view text, const std::string& name) {
  outlets_result r;
  toml::table doc;
  try {
    doc = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    r.errors.push_back({name, e.source().begin.line, {}, std::string(e.description())});
    return r;
  }
  const toml::array* list = doc["outlet"].as_array();
  if (!list) {
    r.errors.push_back({name, 1, {}, "no [[outlet]] tables"});
    return r;
  }
  std::vector<std::size_t> lines;
  for (const toml::node& n : *list) {
    const toml::table* t = n.as_table();
    std::size_t line = n.source().begin.line;
    if (!t) {
      r.errors.push_back({name, line, {}, "an outlet must be a table"});
      continue;
    }
    outlet_config o;
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
        r.errors.push_back({name, vline, std::string(key.str()), "unknown key (known: " + known_columns() + ")"});
        row_ok = false;
        continue;
      }
      // Scalars and arrays of strings are turned into the CSV cell form, so one setter
      // validates both syntaxes.
      std::string cell;
      if (auto s = value.value<std::string>()) cell = *s;
      else if (value.is_integer() || value.is_floating_point() || value.is_boolean()) {
        std::ostringstream os;
        if (value.is_boolean()) os << (*value.value<bool>() ? "true" : "false");
        else if (value.is_integer()) os << *value.value<std::int64_t>();
        else os << *value.value<double>();
        cell = os.str();
      } else if (const toml::array* a = value.as_array()) {
        // Only strings: anything else used to become "", and an all-empty list is no filter
        // at all, the widest reading of what was meant to narrow.
        bool strings = true;
        for (const auto& e : *a) {
          auto s = e.value<std::string>();
          if (!e.is_string() || !s || s->find(';') != std::string::npos) {
            strings = false;
            break;
          }
          if (!cell.empty()) cell += ';';
          cell += *s;
        }
        if (!strings) {
          r.errors.push_back({name, vline, std::string(key.str()),
                              "a list must hold strings only (without ';')"});
          row_ok = false;
          continue;
        }
      } else {
        r.errors.push_back({name, vline, std::string(key.str()), "unsupported value type"});
        row_ok = false;
        continue;
      }
      if (std::string msg = set->second(o, trim(cell)); !msg.empty()) {
        r.errors.push_back({name, vline, std::string(key.str()), msg});
        row_ok = false;
      }
    }
    if (row_ok) {
      r.outlets.push_back(std::move(o));
      lines.push_back(line);
    }
  }
  check_unique(r, name, lines);
  if (!r.ok()) r.outlets.clear();
  return r;
}

outlets_result load_outlets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    outlets_result r;
    r.errors.push_back({path, 0, {}, "cannot open the file"});
    return r;
  }
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  bool toml = path.size() > 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
  return toml ? parse_outlets_toml(text, path) : parse_outlets_csv(text, path);
}

}  // namespace syndic::engine
