// check_source: the one set of rules a source passes, whether it came from a CSV row, a
// [[source]] table, or the admin API's JSON.

#include "poll/source.hpp"

#include "poll/sources_file.hpp"

#include <syndic/engine/outlet.hpp>

#include <boost/url/parse.hpp>
#include <simdjson.h>

namespace syndic::poll {
namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A file:// URL: an absolute local path, no host other than "localhost", no query. Only the
// operator's own files may name one (allow_file).
std::string check_file_url(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return "not a URL: '" + engine::redact_userinfo(url) + "'";
  if (u->has_userinfo()) return "a file:// URL may not carry a user or password";
  if (!u->encoded_host().empty() && u->encoded_host() != "localhost")
    return "a file:// URL names a local file (file:///path), not a host";
  if (u->has_query() || u->has_fragment()) return "a file:// URL may not have a query or fragment";
  if (!u->encoded_path().starts_with("/")) return "a file:// URL needs an absolute path (file:///path)";
  if (u->path().find('\0') != std::string::npos) return "a file:// URL may not hold a NUL";
  return {};
}

}  // namespace

std::string check_header_entry(std::string_view name, std::string_view value) {
  if (name.empty()) return "a header has an empty name";
  // RFC 9110 token characters.
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          extra.find(c) != std::string_view::npos))
      return "bad header name (RFC 9110 token characters only)";
  // Framing headers would desync the connection; the validators and the coding are the
  // poller's (conditional GET, decoding); the User-Agent is poll.user_agent.
  static constexpr std::string_view reserved[] = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
      "expect", "proxy-connection", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since",
      "if-range", "range", "accept-encoding", "user-agent"};
  for (std::string_view r : reserved) {
    bool same = r.size() == name.size();
    for (std::size_t i = 0; same && i < r.size(); ++i)
      same = r[i] == ((name[i] >= 'A' && name[i] <= 'Z') ? char(name[i] + 32) : name[i]);
    if (same) return "header '" + std::string(name) + "' is set by syndic itself and cannot be configured";
  }
  // Never quotes the value: it is often a credential.
  for (char c : value)
    if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 127)
      return "header '" + std::string(name) + "' has a line break, NUL or other control character in its value";
  // Kept as JSON in the store (source_json.hpp), which holds UTF-8 only.
  if (!simdjson::validate_utf8(value.data(), value.size()))
    return "header '" + std::string(name) + "' has a value that is not UTF-8";
  return {};
}

std::string check_channel(std::string_view name) {
  if (name.empty()) return {};  // "default"
  if (name.size() > 64 || name.front() == '.') return "a channel is 1-64 of [A-Za-z0-9._-], not starting with '.'";
  for (char c : name)
    if (!id_char(c)) return "a channel is 1-64 of [A-Za-z0-9._-], not starting with '.'";
  return {};
}

std::string check_tag(std::string_view tag) {
  if (tag.empty()) return "a tag is empty";
  if (tag.size() > max_tag_bytes) return "a tag is longer than " + std::to_string(max_tag_bytes) + " bytes";
  for (char c : tag)
    if (static_cast<unsigned char>(c) < ' ' || c == 127 || c == ';')
      return "a tag holds a ';', a line break or another control character";
  if (!simdjson::validate_utf8(tag.data(), tag.size())) return "a tag is not UTF-8";
  return {};
}

std::string check_source(const source& s, bool allow_file) {
  if (s.id.empty() || s.id.size() > 128) return "id: 1 to 128 of [A-Za-z0-9._-]";
  for (char c : s.id)
    if (!id_char(c)) return "id: 1 to 128 of [A-Za-z0-9._-]";
  std::string where = "source '" + s.id + "': ";

  // The URL: a line break in it would split the request line (and is never valid anyway).
  if (s.url.empty()) return where + "url: empty";
  if (s.url.size() > max_url_bytes) return where + "url: longer than " + std::to_string(max_url_bytes) + " bytes";
  for (char c : s.url)
    if (static_cast<unsigned char>(c) < ' ' || c == 127)
      return where + "url: holds a line break, NUL or other control character";
  auto u = boost::urls::parse_uri(s.url);
  if (!u) return where + "url: not a URL: '" + engine::redact_userinfo(s.url) + "'";
  if (u->scheme_id() == boost::urls::scheme::file) {
    if (!allow_file) return where + "url: file:// URLs are for the operator's own files only, not the API";
    if (std::string e = check_file_url(s.url); !e.empty()) return where + "url: " + e;
  } else if (u->scheme_id() == boost::urls::scheme::http || u->scheme_id() == boost::urls::scheme::https) {
    std::string error;  // by the outlets' rules (userinfo redacted in messages)
    if (!engine::parse_outlet_url(s.url, error)) return where + "url: " + error;
  } else {
    return where + "url: scheme must be http or https" + (allow_file ? " (or file)" : "") + ": '" +
           engine::redact_userinfo(s.url) + "'";
  }

  if (std::string e = check_channel(s.channel); !e.empty()) return where + "channel: " + e;
  if (s.tags.size() > max_tags) return where + "tags: more than " + std::to_string(max_tags);
  for (const auto& t : s.tags)
    if (std::string e = check_tag(t); !e.empty()) return where + "tags: " + e;

  using std::chrono::seconds;
  if (s.min_interval < min_poll_interval || s.min_interval > max_poll_interval)
    return where + "min_interval: " + std::to_string(s.min_interval.count()) + " s is outside 1 s to 30 days";
  if (s.max_interval < min_poll_interval || s.max_interval > max_poll_interval)
    return where + "max_interval: " + std::to_string(s.max_interval.count()) + " s is outside 1 s to 30 days";
  if (s.min_interval > s.max_interval)
    return where + "min_interval (" + std::to_string(s.min_interval.count()) + " s) is above max_interval (" +
           std::to_string(s.max_interval.count()) + " s)";

  if (s.headers.size() > max_headers) return where + "headers: more than " + std::to_string(max_headers);
  for (const auto& [name, value] : s.headers)
    if (std::string e = check_header_entry(name, value); !e.empty()) return where + "headers: " + e;
  return {};
}

}  // namespace syndic::poll
