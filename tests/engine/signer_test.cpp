// Signatures: the Standard Webhooks spec's own test vector, WebSub's hex form, verification.
// And what they sign: delivery ids (webhook-id), in the form receivers have stored.

#include "delivery/ids.hpp"

#include <syndic/engine/signer.hpp>
#include <syndic/formats/base64.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace syndic::engine {
namespace {

TEST(Signer, StandardWebhooksSpecVector) {
  // From the Standard Webhooks specification's reference libraries.
  std::string key = webhook_key_from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(webhook_signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                              R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signer, VerifiesAnyListedSignature) {
  std::string key = webhook_key_from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  std::string body = R"({"test": 2432232314})";
  std::string good = webhook_signature(key, "msg_1", 1700000000, body);
  EXPECT_TRUE(verify_webhook_signature(key, "msg_1", 1700000000, body, good));
  EXPECT_TRUE(verify_webhook_signature(key, "msg_1", 1700000000, body, "v1,bm90IGl0 " + good));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000001, body, good));   // timestamp
  EXPECT_FALSE(verify_webhook_signature(key, "msg_2", 1700000000, body, good));   // id
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, body + " ", good));  // body
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, body, ""));
}

TEST(Signer, WebSubHexSignature) {
  // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a well-known value.
  EXPECT_EQ(websub_signature("key", "The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(Signer, Base64RoundTrip) {
  using formats::base64_decode;
  using formats::base64_encode;
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64_decode("not base64!").has_value());
}

TEST(Signer, NonWhsecSecretsAreRawKeys) {
  EXPECT_EQ(webhook_key_from_secret("plain-secret"), "plain-secret");
  EXPECT_EQ(webhook_key_from_secret("whsec_Zm9vYmFy"), "foobar");
}

TEST(Signer, WhsecSecretMustBeBase64) {
  EXPECT_TRUE(webhook_secret_is_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_TRUE(webhook_secret_is_valid("a raw key"));
  EXPECT_FALSE(webhook_secret_is_valid("whsec_not*base64!"));
  EXPECT_FALSE(webhook_secret_is_valid("whsec_"));
}

// Ids are written without printf now: the same 16 lower-case hex digits, zero-padded, as
// "%016llx" wrote them (receivers de-duplicate on them across versions).
TEST(DeliveryIds, SixteenHexDigitsAsPrintfWroteThem) {
  auto printf_hex = [](const char* prefix, std::uint64_t h) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(h));
    return std::string(buf);
  };
  for (std::string_view outlet : {"", "o", "outlet-with-a-long-name", "\xff\x01"}) {
    for (std::uint64_t version : {0ull, 1ull, 0xabcull, 0xffffffffffffffffull, 0x0123456789abcdefull}) {
      std::string key = detail::item_key("item-1", version);
      EXPECT_EQ(key, "item-1\n" + printf_hex("", version));
      EXPECT_EQ(detail::delivery_id(outlet, key), printf_hex("msg_", detail::fnv1a(outlet, key)));
    }
  }
  EXPECT_EQ(detail::batch_delivery_id("msg_1msg_2"), printf_hex("msg_batch_", detail::fnv1a("msg_1msg_2")));
  EXPECT_EQ(detail::delivery_id("", ""), "msg_" + printf_hex("", detail::fnv1a("", "")));
}

// A pair's id is held in place (no allocation) and says what the std::string forms say.
TEST(DeliveryIds, KeyHeldInPlaceSaysWhatTheStringSays) {
  for (std::string_view outlet : {"", "o", "outlet-with-a-long-name"}) {
    std::string key = detail::item_key("item-1", 0x0123456789abcdefull);
    detail::delivery_key k;
    detail::delivery_id(outlet, key, k);
    EXPECT_EQ(k.view(), detail::delivery_id(outlet, key));
  }
  detail::delivery_key batch;
  detail::batch_delivery_id("msg_1msg_2", batch);
  EXPECT_EQ(batch.view(), detail::batch_delivery_id("msg_1msg_2"));
  EXPECT_EQ(batch.view().size(), 26u);
  EXPECT_TRUE(detail::delivery_key().empty());
}

// An id longer than the key holds in place (none is made here; a store could hand one back)
// is kept whole through copies, moves and reassignment, also from a view of itself.
TEST(DeliveryIds, KeyKeepsALongIdWhole) {
  const std::string long_id(40, 'x'), short_id = "msg_0123456789abcdef";
  detail::delivery_key a(long_id);
  EXPECT_EQ(a.view(), long_id);
  detail::delivery_key b = a;  // copy
  EXPECT_EQ(b.view(), long_id);
  detail::delivery_key c = std::move(a);  // move
  EXPECT_EQ(c.view(), long_id);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from key is empty
  b = std::string_view(b.view()).substr(1);  // long to long, from itself
  EXPECT_EQ(b.view(), long_id.substr(1));
  b = std::string_view(b.view()).substr(0, 5);  // long to short, from itself
  EXPECT_EQ(b.view(), "xxxxx");
  b = short_id;
  c = b;  // short over long
  EXPECT_EQ(c.view(), short_id);
  c = long_id;  // and back
  b = std::move(c);
  EXPECT_EQ(b.view(), long_id);
  std::vector<detail::delivery_key> many(100, detail::delivery_key(long_id));
  many.resize(300, detail::delivery_key(short_id));  // moved as the vector grows
  EXPECT_EQ(many.front().view(), long_id);
  EXPECT_EQ(many.back().view(), short_id);
}

}  // namespace
}  // namespace syndic::engine
