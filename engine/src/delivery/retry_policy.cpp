#include <syndic/engine/retry_policy.hpp>

#include <syndic/formats/dates.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace syndic::engine {

verdict classify(const attempt_outcome& o) {
  if (o.status == 0) return verdict::retry;  // timeouts, resets, DNS: the outlet may recover
  if (o.status >= 200 && o.status < 300) return verdict::delivered;
  if (o.status == 307 || o.status == 308) return verdict::redirect;
  if (o.status == 408 || o.status == 425 || o.status == 429 || o.status >= 500) return verdict::retry;
  if (o.status == 410) return verdict::retire;
  return verdict::dead_letter;  // other 4xx, 1xx and the 3xx we do not follow
}

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::delivered: return "delivered";
    case verdict::retry: return "retry";
    case verdict::retire: return "retire";
    case verdict::dead_letter: return "dead_letter";
    case verdict::redirect: return "redirect";
  }
  return "?";
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view v,
                                                      std::int64_t now_unix_seconds) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (v.front() >= '0' && v.front() <= '9') {
    // Saturated: a value too large for the clock (a digit string past 2^63, or one that
    // overflows when turned into milliseconds) means "as late as allowed", never "now".
    constexpr std::int64_t most = 1'000'000'000'000;  // about 31,700 years
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (end != v.data() + v.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) n = most;
    else if (ec != std::errc{}) return std::nullopt;
    return std::chrono::seconds(std::min(n, most));
  }
  auto t = formats::parse_rfc822(v);  // IMF-fixdate is an RFC 822 date
  if (!t) return std::nullopt;
  return std::chrono::seconds(std::max<std::int64_t>(0, t->unix_ms / 1000 - now_unix_seconds));
}

std::chrono::milliseconds next_delay(const retry_settings& s, std::uint32_t attempt,
                                     const attempt_outcome& o, std::mt19937_64& rng,
                                     std::int64_t now_unix_seconds) {
  if ((o.status == 429 || o.status == 503) && !o.retry_after.empty())
    if (auto ra = parse_retry_after(o.retry_after, now_unix_seconds)) {
      // Compared in seconds: converting a huge value to milliseconds would overflow.
      if (*ra >= std::chrono::ceil<std::chrono::seconds>(s.max_retry_after)) return s.max_retry_after;
      return std::min<std::chrono::milliseconds>(*ra, s.max_retry_after);
    }
  double ceiling = static_cast<double>(s.base.count()) *
                   std::pow(s.factor, static_cast<double>(std::max<std::uint32_t>(attempt, 1) - 1));
  ceiling = std::min(ceiling, static_cast<double>(s.cap.count()));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  return std::chrono::milliseconds(static_cast<std::int64_t>(jitter(rng)));
}

bool may_retry(const retry_settings& s, std::uint32_t attempts_made,
               std::chrono::milliseconds age) {
  return attempts_made < s.max_attempts && age < s.max_age;
}

}  // namespace syndic::engine
