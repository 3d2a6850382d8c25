#include "html_urls.hpp"

#include "strings.hpp"
#include "text.hpp"
#include "url.hpp"

#include <array>

namespace syndic::formats::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool is_name_char(char c) {
  return !is_space(c) && c != '=' && c != '>' && c != '/' && c != '"' && c != '\'';
}

bool is_unreserved(char c) {  // RFC 3986 unreserved, which needs no escaping anywhere
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_plain_base_char(char c) {  // unreserved, sub-delims, ':', '@' and '/': no ?, #, %, [
  return is_unreserved(c) || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
         c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' || c == ':' ||
         c == '@' || c == '/';
}

// Whether `path` (segments separated by '/') has a "." or ".." segment.
bool has_dot_segment(std::string_view path) {
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    std::string_view seg = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg == "." || seg == "..") return true;
    if (end == std::string_view::npos) return false;
    start = end + 1;
  }
}

// The fast path of resolve_reference; false when it does not apply.
bool resolve_plain_path(std::string_view base, std::string_view ref, std::string& out) {
  std::size_t scheme = base.starts_with("https://") ? 8 : base.starts_with("http://") ? 7 : 0;
  if (scheme == 0 || ref.empty() || ref.front() == '/') return false;
  for (char c : ref)
    if (!is_unreserved(c) && c != '/') return false;
  const std::size_t path = base.find('/', scheme);
  if (path == std::string_view::npos || path == scheme) return false;  // no path, no host
  for (char c : base.substr(scheme))
    if (!is_plain_base_char(c)) return false;
  if (has_dot_segment(base.substr(path + 1)) || has_dot_segment(ref)) return false;
  const std::size_t last = base.rfind('/');
  out.reserve(last + 1 + ref.size());
  out.assign(base.substr(0, last + 1));
  out.append(ref);
  return true;
}

}  // namespace

std::string resolve_reference(std::string_view base, std::string_view ref) {
  std::string out;
  if (resolve_plain_path(base, ref, out)) return out;
  return resolve_url(base, ref);
}

bool is_url_attribute(std::string_view name) {
  static constexpr std::array<std::string_view, 12> names{
      "action", "background", "cite", "codebase", "data", "formaction",
      "href",   "icon",       "longdesc", "poster", "src", "usemap"};
  for (auto n : names)
    if (ascii_iequals(n, name)) return true;
  return false;
}

std::string resolve_html_urls(std::string_view html, std::string_view base, url_budget* budget) {
  if (base.empty() || html.find('<') == std::string_view::npos) return std::string(html);
  std::string out;
  out.reserve(html.size() + 64);
  std::size_t i = 0, copied = 0;
  const std::size_t n = html.size();
  while (i < n) {
    std::size_t lt = html.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= n) break;
    i = lt + 1;
    if (html.substr(i, 3) == "!--") {  // a comment: nothing inside is markup
      std::size_t end = html.find("-->", i + 3);
      i = end == std::string_view::npos ? n : end + 3;
      continue;
    }
    // Only start tags carry attributes; skip end tags and declarations.
    char first = html[i];
    if (!((first | 0x20) >= 'a' && (first | 0x20) <= 'z')) continue;
    while (i < n && is_name_char(html[i])) ++i;  // tag name
    // Attributes up to '>'.
    while (i < n && html[i] != '>') {
      while (i < n && (is_space(html[i]) || html[i] == '/')) ++i;
      std::size_t name_start = i;
      while (i < n && is_name_char(html[i])) ++i;
      std::string_view name = html.substr(name_start, i - name_start);
      while (i < n && is_space(html[i])) ++i;
      if (i >= n || html[i] != '=') {
        if (name.empty() && i < n && html[i] != '>') ++i;  // stray quote: move on
        continue;
      }
      ++i;
      while (i < n && is_space(html[i])) ++i;
      std::size_t value_start, value_end;
      if (i < n && (html[i] == '"' || html[i] == '\'')) {
        char q = html[i++];
        value_start = i;
        std::size_t close = html.find(q, i);
        value_end = close == std::string_view::npos ? n : close;
        i = value_end == n ? n : value_end + 1;
      } else {
        value_start = i;
        while (i < n && !is_space(html[i]) && html[i] != '>') ++i;
        value_end = i;
      }
      if (!is_url_attribute(name)) continue;
      // The value is HTML-escaped ("&amp;" in a query string): resolve the decoded URL and
      // escape it again.
      std::string raw;
      decode_entities(html.substr(value_start, value_end - value_start), raw);
      std::string_view ref = trim(raw);
      if (ref.empty() || has_scheme(ref) || ref.front() == '#') continue;
      if (budget && !budget->spend(base, ref)) continue;
      std::string absolute = resolve_reference(base, ref);
      if (absolute == ref) continue;
      out.append(html.substr(copied, value_start - copied));
      append_xml_attr_escaped(out, absolute);
      copied = value_end;
    }
  }
  out.append(html.substr(copied));
  return out;
}

}  // namespace syndic::formats::detail
