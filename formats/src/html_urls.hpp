#pragma once
// Makes the links inside HTML content absolute. Content travels: a release syndicated to a
// newsroom's site is shown far from where it was published, and a relative href or src would
// point into the wrong site. Readers (feedparser, browsers' feed views) resolve them too.

#include <string>
#include <string_view>

namespace syndic::formats::detail {

// True for the HTML attributes that hold a URL (href, src, cite, poster, ...).
bool is_url_attribute(std::string_view name);

// Rewrites relative URL attribute values in `html` against `base`. Returns `html` unchanged
// (one copy) when base is empty or nothing needs resolving. Markup is otherwise untouched.
std::string resolve_html_urls(std::string_view html, std::string_view base);

}  // namespace syndic::formats::detail
