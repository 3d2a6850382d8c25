// The API's bearer check: right, wrong, shorter, longer, missing, other schemes, odd spacing.

#include "daemon/auth.hpp"

#include <gtest/gtest.h>

namespace syndic::daemon {
namespace {

constexpr std::string_view token = "Zm9vYmFyLXNlY3JldC10b2tlbg==";

TEST(DaemonAuth, RightToken) {
  bearer_auth auth(token);
  EXPECT_EQ(auth.check("Bearer Zm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::ok);
  EXPECT_EQ(auth.check("bearer Zm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::ok);
  EXPECT_EQ(auth.check("BEARER Zm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::ok);
  EXPECT_EQ(auth.check("  Bearer \t Zm9vYmFyLXNlY3JldC10b2tlbg==  "), auth_result::ok);
  EXPECT_EQ(bearer_auth::http_status(auth_result::ok), 200);
}

TEST(DaemonAuth, WrongShortLongAndCaseChangedTokens) {
  bearer_auth auth(token);
  for (std::string_view presented : {
           "Zm9vYmFyLXNlY3JldC10b2tlbh==",     // one byte differs
           "Zm9vYmFyLXNlY3JldC10b2tlbg=",      // shorter
           "Zm9vYmFyLXNlY3JldC10b2tlbg===",    // longer
           "Zm9vYmFyLXNlY3JldC10b2tlbgX==",    // longer, a character inserted
           "Z",                                 // a prefix
           "zM9VYMFYlxnLy3jLDc10B2TLBG==",     // the token's case is significant
       }) {
    std::string header = "Bearer " + std::string(presented);
    EXPECT_EQ(auth.check(header), auth_result::wrong) << header;
  }
  EXPECT_EQ(bearer_auth::http_status(auth_result::wrong), 401);
  EXPECT_EQ(bearer_auth::www_authenticate(auth_result::wrong), R"(Bearer realm="syndic", error="invalid_token")");
}

TEST(DaemonAuth, MissingOtherSchemeAndMalformed) {
  bearer_auth auth(token);
  EXPECT_EQ(auth.check(""), auth_result::missing);
  EXPECT_EQ(auth.check("   "), auth_result::missing);
  EXPECT_EQ(auth.check("Basic dXNlcjpwYXNz"), auth_result::other_scheme);
  EXPECT_EQ(auth.check("Token Zm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::other_scheme);
  EXPECT_EQ(auth.check("Zm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::other_scheme);  // the token alone
  EXPECT_EQ(auth.check("BearerZm9vYmFyLXNlY3JldC10b2tlbg=="), auth_result::other_scheme);
  EXPECT_EQ(auth.check("Bearer"), auth_result::malformed);
  EXPECT_EQ(auth.check("Bearer   "), auth_result::malformed);
  EXPECT_EQ(auth.check("Bearer a b"), auth_result::malformed);
  EXPECT_EQ(auth.check("Bearer Zm9vYmFyLXNlY3JldC10b2tlbg==, Bearer x"), auth_result::malformed);
  EXPECT_EQ(auth.check("Bearer =abc"), auth_result::malformed);
  EXPECT_EQ(auth.check("Bearer ab=c"), auth_result::malformed);
  EXPECT_EQ(auth.check(std::string_view("Bearer Zm9v\0YmFy", 15)), auth_result::malformed);
  EXPECT_EQ(bearer_auth::http_status(auth_result::missing), 401);
  EXPECT_EQ(bearer_auth::http_status(auth_result::other_scheme), 401);
  EXPECT_EQ(bearer_auth::http_status(auth_result::malformed), 400);
  EXPECT_EQ(bearer_auth::www_authenticate(auth_result::missing), R"(Bearer realm="syndic")");
  EXPECT_EQ(bearer_auth::www_authenticate(auth_result::malformed), R"(Bearer realm="syndic", error="invalid_request")");
}

TEST(DaemonAuth, BearerTokenParsing) {
  EXPECT_EQ(bearer_token("Bearer abc-._~+/=="), "abc-._~+/==");
  EXPECT_EQ(bearer_token("bEaReR\tx"), "x");
  EXPECT_EQ(bearer_token("Bearer"), "");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer a\"b"), "");
}

TEST(DaemonAuth, OneShotMatch) {
  EXPECT_TRUE(bearer_token_matches("Bearer Zm9vYmFyLXNlY3JldC10b2tlbg==", token));
  EXPECT_FALSE(bearer_token_matches("Bearer Zm9vYmFyLXNlY3JldC10b2tlbg=", token));
  EXPECT_FALSE(bearer_token_matches("", token));
  EXPECT_FALSE(bearer_token_matches("Bearer x", ""));  // no token configured: nothing matches
}

TEST(DaemonAuth, ConstantTimeEqual) {
  const unsigned char a[] = {1, 2, 3, 4}, b[] = {1, 2, 3, 4}, c[] = {1, 2, 3, 5};
  EXPECT_TRUE(constant_time_equal(a, b, 4));
  EXPECT_FALSE(constant_time_equal(a, c, 4));
  EXPECT_TRUE(constant_time_equal(a, c, 3));
}

}  // namespace
}  // namespace syndic::daemon
