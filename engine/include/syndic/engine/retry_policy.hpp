#pragma once
// What to do with the outcome of one delivery attempt. Pure policy, no I/O: the transport
// reports an outcome value, this decides done / retry (and when) / retire / dead-letter.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace syndic::engine {

// What the transport saw. `status` is 0 when no HTTP response arrived.
struct attempt_outcome {
  int status = 0;
  enum class transport_error : std::uint8_t {
    none, timeout, connect, dns, tls, reset, other
  } error = transport_error::none;
  std::string retry_after;  // the Retry-After header, if any
};

enum class verdict : std::uint8_t {
  delivered,    // 2xx
  retry,        // 408, 425, 429, 5xx, timeouts, connection and DNS errors
  retire,       // 410 Gone: the outlet unsubscribed
  dead_letter,  // any other 4xx, 3xx other than 307/308: permanent
  redirect,     // 307/308: same method, to Location (bounded by the caller)
};

verdict classify(const attempt_outcome& o);
std::string_view to_string(verdict v);

struct retry_settings {
  std::chrono::milliseconds base{1000};
  double factor = 4.0;
  std::chrono::milliseconds cap{std::chrono::hours(2)};
  std::uint32_t max_attempts = 8;  // about a day with the defaults, as Standard Webhooks suggests
  std::chrono::milliseconds max_age{std::chrono::hours(26)};
  std::chrono::milliseconds max_retry_after{std::chrono::hours(1)};
};

// Delay before attempt `attempt + 1` (attempt counts from 1) with "full jitter": uniform in
// [0, min(cap, base * factor^(attempt-1))] (AWS architecture blog, "Exponential Backoff And
// Jitter"). A Retry-After on 429/503 replaces it, bounded by max_retry_after.
std::chrono::milliseconds next_delay(const retry_settings& s, std::uint32_t attempt,
                                     const attempt_outcome& o, std::mt19937_64& rng,
                                     std::int64_t now_unix_seconds);

// Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). nullopt when unparseable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::int64_t now_unix_seconds);

// True when another attempt is allowed: under max_attempts and within max_age of the first.
bool may_retry(const retry_settings& s, std::uint32_t attempts_made,
               std::chrono::milliseconds age);

}  // namespace syndic::engine
