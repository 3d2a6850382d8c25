// Charset detection and transcoding: whatever the bytes and whatever charset the transport
// claims, the decoded text is valid UTF-8 (encoding.hpp's promise), and a charset was named.

#include "check.hpp"
#include "encoding.hpp"

#include <cstdint>
#include <string>

namespace {

using namespace syndic::formats::detail;
namespace fz = syndic::fuzz;

// What a Content-Type may claim; the first input byte picks one.
constexpr std::string_view transport_charsets[] = {
    "",          "utf-8",     "UTF-16",   "utf-16be", "utf-16le",  "utf-32",    "windows-1252", "us-ascii",
    "iso-8859-1", "koi8-r",   "shift_jis", "euc-jp",  "gb18030",   "big5",      "iso-2022-jp",  "x-bogus",
};

void check_decoded(const decoded_text& d, std::string_view in, std::string_view what) {
  std::string_view text = d.text(in);
  fz::check(fz::valid_utf8(text), "encoding-utf8",
            std::string(what) + ": result in '" + d.charset + "' is not valid UTF-8", text);
  fz::check(!d.charset.empty(), "encoding-charset", std::string(what) + ": no charset named");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view transport = transport_charsets[data[0] % std::size(transport_charsets)];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  check_decoded(decode_xml_bytes(in, transport), in, "decode_xml_bytes(transport '" + std::string(transport) + "')");
  check_decoded(decode_json_bytes(in), in, "decode_json_bytes");
  (void)canonical_charset(in.substr(0, 64));
  return 0;
}
