#pragma once
// Makes the links inside HTML content absolute. Content travels: a release syndicated to a
// newsroom's site is shown far from where it was published, and a relative href or src would
// point into the wrong site. Readers (feedparser, browsers' feed views) resolve them too.

#include <cstddef>
#include <string>
#include <string_view>

namespace syndic::formats::detail {

// True for the HTML attributes that hold a URL (href, src, cite, poster, ...).
bool is_url_attribute(std::string_view name);

// resolve_url (RFC 3986 through Boost.URL), with a fast path for the common case: a relative
// path of plain segments ("p/12", "a.html") against an http(s) base that has no query,
// fragment, escapes or dot segments. Merging then only replaces the base's last segment and
// there are no dot segments to remove, so the result is the same (the tests compare them
// case by case) for one copy, instead of parsing a base that can be 60 KB long every time.
std::string resolve_reference(std::string_view base, std::string_view ref);

// Bytes that resolving relative references may still produce in one document. Each result
// holds its base: a 60 KB xml:base and 20,000 one-letter links would otherwise make 1.2 GB of
// URLs out of 1.2 MB of input. Once spent, references are left as written.
struct url_budget {
  std::size_t left = static_cast<std::size_t>(-1);
  bool ran_out = false;
  // Spends what resolving `ref` against `base` can produce; false (and ran_out) if it cannot.
  bool spend(std::string_view base, std::string_view ref) {
    std::size_t cost = base.size() + ref.size();
    if (cost > left) {
      ran_out = true;
      return false;
    }
    left -= cost;
    return true;
  }
};

// Rewrites relative URL attribute values in `html` against `base`. Returns `html` unchanged
// (one copy) when base is empty or nothing needs resolving. Markup is otherwise untouched.
std::string resolve_html_urls(std::string_view html, std::string_view base,
                              url_budget* budget = nullptr);

}  // namespace syndic::formats::detail
