#pragma once
// Namespace URIs the parsers map into the model. Elements are matched by URI, never by prefix.

#include <string_view>

namespace syndic::formats::ns {

inline constexpr std::string_view atom10 = "http://www.w3.org/2005/Atom";
inline constexpr std::string_view atom03 = "http://purl.org/atom/ns#";
inline constexpr std::string_view rss10 = "http://purl.org/rss/1.0/";
inline constexpr std::string_view rss090 = "http://my.netscape.com/rdf/simple/0.9/";
inline constexpr std::string_view rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
inline constexpr std::string_view dc = "http://purl.org/dc/elements/1.1/";
inline constexpr std::string_view dcterms = "http://purl.org/dc/terms/";
inline constexpr std::string_view content = "http://purl.org/rss/1.0/modules/content/";
inline constexpr std::string_view media = "http://search.yahoo.com/mrss/";
// Media RSS is also published without the trailing slash; both mean the same module.
inline constexpr std::string_view media_no_slash = "http://search.yahoo.com/mrss";
inline constexpr std::string_view itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd";
inline constexpr std::string_view sy = "http://purl.org/rss/1.0/modules/syndication/";
inline constexpr std::string_view xhtml = "http://www.w3.org/1999/xhtml";
inline constexpr std::string_view xml = "http://www.w3.org/XML/1998/namespace";
inline constexpr std::string_view slash = "http://purl.org/rss/1.0/modules/slash/";
inline constexpr std::string_view wfw = "http://wellformedweb.org/CommentAPI/";

// Prefixes feeds use without declaring them. We read them as their usual namespace and
// report the missing declaration, as a reader would rather than dropping the element.
std::string_view well_known_prefix(std::string_view prefix);

// The one URI for a namespace published under variants (Media RSS without its trailing
// slash, iTunes with capitals); other URIs are returned as given.
std::string_view canonical(std::string_view uri);

// The prefix a renderer writes for a namespace (empty if it has no customary one).
std::string_view customary_prefix(std::string_view uri);

}  // namespace syndic::formats::ns
