// URL resolution: resolve_url(base, ref) and resolve_html_urls(html, base). Input: the base,
// a newline, then the reference (or HTML). From UTF-8 inputs the results must be UTF-8, since
// they are written into feeds; an absolute reference comes back unchanged.

#include "check.hpp"
#include "html_urls.hpp"
#include "url.hpp"

#include <cstdint>
#include <string>

namespace {
using namespace syndic::formats::detail;
namespace fz = syndic::fuzz;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view base = in.substr(0, nl), ref = in.substr(nl + 1);
  bool utf8 = fz::valid_utf8(base) && fz::valid_utf8(ref);

  std::string r = resolve_url(base, ref);
  if (utf8)
    fz::check(fz::valid_utf8(r), "url-utf8",
              "resolve_url('" + std::string(base) + "', '" + std::string(ref) + "') is not UTF-8", r);
  if (has_scheme(ref))
    fz::check(r == ref, "url-absolute", "an absolute reference was changed: '" + std::string(ref) + "' -> '" + r + "'");
  if (!ref.empty()) fz::check(!r.empty(), "url-lost", "resolve_url lost '" + std::string(ref) + "'");

  std::string html = resolve_html_urls(ref, base);
  if (utf8)
    fz::check(fz::valid_utf8(html), "url-utf8", "resolve_html_urls against '" + std::string(base) + "' is not UTF-8",
              html);
  return 0;
}
