#include <syndic/engine/signer.hpp>

#include <syndic/formats/base64.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <array>

namespace syndic::engine {
namespace {

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view a,
                                          std::string_view b = {}) {
  // OpenSSL 3's EVP_MAC; the algorithm is fetched once per process (fetching is the slow part).
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  std::array<unsigned char, 32> out{};
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
  std::size_t len = 0;
  // The key may be empty (an outlet without a secret is never signed, but be total).
  static const unsigned char empty = 0;
  const auto* k = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  if (ctx && EVP_MAC_init(ctx, k, key.size(), params)) {
    // Streamed: "id.timestamp." and the body are never concatenated into a copy.
    for (std::string_view part : {a, b})
      if (!part.empty()) EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size());
    EVP_MAC_final(ctx, out.data(), &len, out.size());
  }
  EVP_MAC_CTX_free(ctx);
  return out;
}

}  // namespace

std::string webhook_key_from_secret(std::string_view secret) {
  if (secret.starts_with("whsec_"))
    if (auto key = formats::base64_decode(secret.substr(6))) return *key;
  return std::string(secret);
}

bool webhook_secret_is_valid(std::string_view secret) {
  if (!secret.starts_with("whsec_")) return true;
  auto key = formats::base64_decode(secret.substr(6));
  return key && !key->empty();
}

std::string webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body) {
  std::string prefix(id);
  prefix += '.';
  prefix += std::to_string(timestamp);
  prefix += '.';
  auto mac = hmac_sha256(key, prefix, body);
  return "v1," + formats::base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

std::string websub_signature(std::string_view secret, std::string_view body) {
  static constexpr char hex[] = "0123456789abcdef";
  auto mac = hmac_sha256(secret, body);
  std::string out = "sha256=";
  for (unsigned char b : mac) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

bool verify_websub_signature(std::string_view secret, std::string_view body, std::string_view header) {
  std::string expected = websub_signature(secret, body);
  if (header.size() != expected.size()) return false;
  std::string got(header);
  for (std::size_t i = 7; i < got.size(); ++i)  // after "sha256=": hex may be upper case
    if (got[i] >= 'A' && got[i] <= 'F') got[i] = static_cast<char>(got[i] - 'A' + 'a');
  return CRYPTO_memcmp(got.data(), expected.data(), expected.size()) == 0;
}

bool verify_webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body, std::string_view header) {
  std::string expected = webhook_signature(key, id, timestamp, body);
  while (!header.empty()) {
    auto space = header.find(' ');
    std::string_view entry = header.substr(0, space);
    if (entry.size() == expected.size() &&
        CRYPTO_memcmp(entry.data(), expected.data(), expected.size()) == 0)
      return true;
    if (space == std::string_view::npos) break;
    header.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace syndic::engine
