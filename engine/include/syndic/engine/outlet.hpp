#pragma once
// An outlet: one HTTP endpoint that wants items, in its format, at its pace.

#include <syndic/engine/retry_policy.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::engine {

enum class payload_format : std::uint8_t { webhook, jsonfeed, atom, rss, websub };

std::optional<payload_format> payload_format_from_string(std::string_view name);
std::string_view to_string(payload_format f);

struct outlet_config {
  std::string id;
  std::string url;
  payload_format format = payload_format::webhook;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string secret;  // signs deliveries when set (whsec_... for webhooks)
  // Filters: an item goes to the outlet only if it matches every non-empty list.
  std::vector<std::string> languages, categories, sources;
  double rate = 0;     // requests per second; 0 = unlimited
  double burst = 1;    // token bucket depth
  std::uint32_t max_in_flight = 4;
  std::uint32_t batch = 1;  // items per request, used while the outlet is throttled
  bool ordered = false;     // items in log order, one request in flight
  std::chrono::milliseconds timeout{10'000};
  retry_settings retry;
};

// One problem in an outlets file: where and what.
struct config_error {
  std::string file;
  std::size_t line = 0;
  std::string column;  // the column's (or key's) name, empty when the whole row is at fault
  std::string message;
  std::string to_string() const;  // "outlets.csv:7: column 'rate': not a number: 'fast'"
};

// Reads outlets from a CSV file whose header row names the columns (id,url,format required;
// secret,rate,burst,max_in_flight,batch,ordered,timeout_ms,languages,categories,sources,headers
// and the retry policy's retry_base_ms,retry_factor,retry_cap_ms,retry_max_attempts,
// retry_max_age_ms,retry_after_max_ms optional; lists separated by ';'; an empty cell means the default) or from TOML
// ([[outlet]] tables with the same keys), by the file's extension. Every bad row is reported;
// the result holds outlets only when there was no error at all (nothing starts half-configured).
struct outlets_result {
  std::vector<outlet_config> outlets;
  std::vector<config_error> errors;
  bool ok() const { return errors.empty(); }
};

outlets_result load_outlets(const std::string& path);
// The same from text already in memory (`name` is used in the messages).
outlets_result parse_outlets_csv(std::string_view text, const std::string& name);
outlets_result parse_outlets_toml(std::string_view text, const std::string& name);

}  // namespace syndic::engine
