#include "namespaces.hpp"

#include <array>
#include <utility>

namespace syndic::formats::ns {
namespace {

// Prefix and URI pairs as commonly written. The RSS-world prefixes come from the RSS
// Advisory Board's namespace list; "mrss" and "itunes" variants are seen in the wild.
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> known{{
    {"atom", atom10},
    {"content", content},
    {"dc", dc},
    {"dcterms", dcterms},
    {"itunes", itunes},
    {"media", media},
    {"rdf", rdf},
    {"slash", slash},
    {"sy", sy},
    {"wfw", wfw},
    {"xhtml", xhtml},
    {"xml", xml},
    {"georss", "http://www.georss.org/georss"},
    {"geo", "http://www.w3.org/2003/01/geo/wgs84_pos#"},
    {"psc", "http://podlove.org/simple-chapters"},
    {"feedburner", "http://rssnamespace.org/feedburner/ext/1.0"},
}};

}  // namespace

std::string_view well_known_prefix(std::string_view prefix) {
  for (const auto& [p, uri] : known)
    if (p == prefix) return uri;
  return {};
}

std::string_view canonical(std::string_view uri) {
  if (uri == media_no_slash) return media;
  if (uri.size() == itunes.size() && uri != itunes) {
    bool same = true;
    for (std::size_t i = 0; i < uri.size() && same; ++i)
      same = (uri[i] | 0x20) == (itunes[i] | 0x20);
    if (same) return itunes;
  }
  return uri;
}

std::string_view customary_prefix(std::string_view uri) {
  for (const auto& [p, u] : known)
    if (u == uri) return p;
  return {};
}

}  // namespace syndic::formats::ns
