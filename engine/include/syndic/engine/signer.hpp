#pragma once
// Delivery signatures: Standard Webhooks (https://www.standardwebhooks.com/) and WebSub.
// Pure functions over bytes: the body is rendered once per format and shared, only these
// headers differ per outlet.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syndic::engine {

// A Standard Webhooks secret: "whsec_" + base64 of the key bytes. Other strings are used as
// raw key bytes, as some receivers configure them.
std::string webhook_key_from_secret(std::string_view secret);

// False for a "whsec_" secret whose rest is not (non-empty, strict) base64: such a secret
// must be a configuration error, not silently taken as raw key bytes. True for any other.
bool webhook_secret_is_valid(std::string_view secret);

// "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"
std::string webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body);

// "sha256=<hex HMAC-SHA256(secret, body)>" for WebSub's X-Hub-Signature.
std::string websub_signature(std::string_view secret, std::string_view body);

// Checks an X-Hub-Signature header ("sha256=<hex>", hex in either case) in constant time.
bool verify_websub_signature(std::string_view secret, std::string_view body, std::string_view header);

// Checks a webhook-signature header (space-separated list of "v1,..." entries) in constant
// time per entry; used by the sink to verify what it receives.
bool verify_webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body, std::string_view header);

}  // namespace syndic::engine
