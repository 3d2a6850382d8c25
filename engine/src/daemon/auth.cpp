// Bearer token check: parse the header, hash, compare digests in constant time.

#include "daemon/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <utility>

namespace syndic::daemon {
namespace {

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool b64token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/';
}

}  // namespace

std::string_view to_string(auth_result r) {
  switch (r) {
    case auth_result::ok: return "ok";
    case auth_result::missing: return "missing";
    case auth_result::other_scheme: return "other_scheme";
    case auth_result::malformed: return "malformed";
    case auth_result::wrong: return "wrong";
  }
  return "?";
}

namespace {

// "Scheme rest": the scheme and what follows it, surrounding spaces removed.
std::pair<std::string_view, std::string_view> split_scheme(std::string_view h) {
  while (!h.empty() && is_space(h.front())) h.remove_prefix(1);
  while (!h.empty() && is_space(h.back())) h.remove_suffix(1);
  std::size_t end = 0;
  while (end < h.size() && !is_space(h[end])) ++end;
  std::string_view rest = h.substr(end);
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  return {h.substr(0, end), rest};
}

bool is_bearer(std::string_view scheme) {
  constexpr std::string_view bearer = "bearer";
  if (scheme.size() != bearer.size()) return false;
  for (std::size_t i = 0; i < bearer.size(); ++i)
    if ((scheme[i] | 0x20) != bearer[i]) return false;
  return true;
}

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && b64token_char(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

}  // namespace

std::string_view bearer_token(std::string_view h) {
  auto [scheme, token] = split_scheme(h);
  if (!is_bearer(scheme) || !is_b64token(token)) return {};
  return token;
}

bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}

bearer_auth::bearer_auth(std::string_view token) : digest_(sha256(token)) {}

auth_result bearer_auth::check(std::string_view authorization) const {
  auto [scheme, token] = split_scheme(authorization);
  if (scheme.empty()) return auth_result::missing;
  if (!is_bearer(scheme)) return auth_result::other_scheme;
  if (!is_b64token(token)) return auth_result::malformed;
  // Hashing first makes the comparison's length fixed: a short or long token costs the same.
  auto presented = sha256(token);
  return constant_time_equal(presented.data(), digest_.data(), digest_.size()) ? auth_result::ok : auth_result::wrong;
}

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  return !token.empty() && bearer_auth(token).check(authorization) == auth_result::ok;
}

int bearer_auth::http_status(auth_result r) {
  switch (r) {
    case auth_result::ok: return 200;
    case auth_result::malformed: return 400;
    default: return 401;
  }
}

std::string bearer_auth::www_authenticate(auth_result r) {
  switch (r) {
    case auth_result::malformed: return R"(Bearer realm="syndic", error="invalid_request")";
    case auth_result::wrong: return R"(Bearer realm="syndic", error="invalid_token")";
    default: return R"(Bearer realm="syndic")";
  }
}

}  // namespace syndic::daemon
