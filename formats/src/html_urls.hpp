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
