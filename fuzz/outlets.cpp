// The outlets file, CSV or TOML (the first input byte picks: even CSV, odd TOML). Neither may
// crash or throw, and the documented contract holds: outlets only when there is no error, and
// every outlet taken has an id and an http(s) URL.

#include "check.hpp"

#include <syndic/engine/outlet.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fz = syndic::fuzz;
  using namespace syndic::engine;
  if (size == 0) return 0;
  bool toml = data[0] & 1;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  outlets_result r = toml ? parse_outlets_toml(text, "fuzz.toml") : parse_outlets_csv(text, "fuzz.csv");

  fz::check(r.errors.empty() || r.outlets.empty(), "outlets-contract", "outlets returned alongside errors");
  for (auto& e : r.errors) (void)e.to_string();
  for (auto& o : r.outlets) {
    fz::check(!o.id.empty(), "outlets-contract", "an outlet without an id");
    std::string scheme = o.url.substr(0, o.url.find(':'));
    for (auto& c : scheme) c = static_cast<char>(c | 0x20);  // schemes are case-insensitive
    fz::check(scheme == "http" || scheme == "https",
              "outlets-contract", "an outlet URL that is not http(s): " + o.url);
  }
  return 0;
}
