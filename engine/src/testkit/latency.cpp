#include <syndic/testkit/sink.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace syndic::testkit {
namespace {

bool parse_ms(std::string_view s, std::chrono::milliseconds& out) {
  long long n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < 0 || n > 3'600'000) return false;
  out = std::chrono::milliseconds(n);
  return true;
}

}  // namespace

std::chrono::milliseconds latency_distribution::at(double u) const {
  u = std::clamp(u, 0.0, 0.999999);
  switch (kind) {
    case shape::fixed: return a;
    case shape::uniform:
      return a + std::chrono::milliseconds(static_cast<long long>(u * static_cast<double>((b - a).count() + 1)));
    case shape::exponential: {
      double ms = -static_cast<double>(a.count()) * std::log1p(-u);
      return std::chrono::milliseconds(static_cast<long long>(std::min(ms, 10.0 * static_cast<double>(a.count()))));
    }
  }
  return a;
}

std::optional<latency_distribution> latency_distribution::parse(std::string_view spec) {
  latency_distribution d;
  if (spec.starts_with("exp:")) {
    if (!parse_ms(spec.substr(4), d.a)) return std::nullopt;
    d.kind = shape::exponential;
    return d;
  }
  if (auto dash = spec.find('-'); dash != std::string_view::npos) {
    if (!parse_ms(spec.substr(0, dash), d.a) || !parse_ms(spec.substr(dash + 1), d.b) || d.b < d.a)
      return std::nullopt;
    d.kind = shape::uniform;
    return d;
  }
  if (!parse_ms(spec, d.a)) return std::nullopt;
  return d;
}

}  // namespace syndic::testkit
