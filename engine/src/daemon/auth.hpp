#pragma once
// The API's bearer token check (RFC 6750): `Authorization: Bearer <token>`, the scheme in any
// case, the token exactly as configured.
//
// The comparison takes the same time whatever the presented token is: both sides are hashed
// with SHA-256 and the 32-byte digests compared with CRYPTO_memcmp, so neither the position of
// the first wrong byte nor the token's length shows in the time an answer takes. Only the
// digest of the configured token is kept.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace syndic::daemon {

enum class auth_result : std::uint8_t {
  ok,
  missing,       // no Authorization header, or an empty one: 401
  other_scheme,  // "Basic ...", "Token ...": no bearer credentials, 401
  malformed,     // "Bearer" without a well-formed b64token: 400, error="invalid_request"
  wrong,         // a well-formed bearer token that is not ours: 401, error="invalid_token"
};

std::string_view to_string(auth_result r);

// The token of an Authorization header value, or empty when it is not "Bearer <b64token>"
// (optional spaces around, one or more spaces between, scheme case-insensitive).
std::string_view bearer_token(std::string_view authorization);

class bearer_auth {
 public:
  explicit bearer_auth(std::string_view token);

  // `authorization` is the header's value; pass an empty view when the header is absent.
  auth_result check(std::string_view authorization) const;

  // The status (200 for ok) and the WWW-Authenticate value to answer `r` with (RFC 6750 3.1).
  static int http_status(auth_result r);
  static std::string www_authenticate(auth_result r);

 private:
  std::array<unsigned char, 32> digest_{};
};

// One-shot form of bearer_auth(token).check(authorization) == ok, for callers without a
// bearer_auth at hand (it hashes the configured token on every call). An empty `token` never
// matches.
bool bearer_token_matches(std::string_view authorization, std::string_view token);

// Equal-length buffers compared in time that does not depend on their contents.
bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t n);

}  // namespace syndic::daemon
