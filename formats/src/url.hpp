#pragma once
// Resolving relative references (xml:base, the document URL) per RFC 3986 with Boost.URL.

#include <string>
#include <string_view>

namespace syndic::formats::detail {

// True when `ref` starts with a scheme ("http:", "mailto:", ...): nothing to resolve.
bool has_scheme(std::string_view ref);

// Resolves `ref` against `base`. Returns `ref` unchanged when it is absolute, when base is
// empty or not an absolute URI, or when either does not parse: a link is never lost.
std::string resolve_url(std::string_view base, std::string_view ref);

}  // namespace syndic::formats::detail
