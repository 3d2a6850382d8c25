// Classification, backoff with full jitter, Retry-After.

#include <syndic/engine/retry_policy.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace syndic::engine {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, Classification) {
  struct row {
    int status;
    verdict expected;
  };
  for (auto [status, expected] : {row{200, verdict::delivered}, row{204, verdict::delivered},
                                  row{299, verdict::delivered}, row{301, verdict::dead_letter},
                                  row{302, verdict::dead_letter}, row{307, verdict::redirect},
                                  row{308, verdict::redirect}, row{400, verdict::dead_letter},
                                  row{401, verdict::dead_letter}, row{404, verdict::dead_letter},
                                  row{408, verdict::retry}, row{410, verdict::retire},
                                  row{413, verdict::dead_letter}, row{425, verdict::retry},
                                  row{429, verdict::retry}, row{500, verdict::retry},
                                  row{503, verdict::retry}, row{599, verdict::retry}}) {
    EXPECT_EQ(classify(attempt_outcome{status, {}, {}}), expected) << status;
  }
  for (auto e : {attempt_outcome::transport_error::timeout, attempt_outcome::transport_error::connect,
                 attempt_outcome::transport_error::dns, attempt_outcome::transport_error::reset})
    EXPECT_EQ(classify(attempt_outcome{0, e, {}}), verdict::retry);
}

TEST(RetryPolicy, BackoffGrowsAndIsJittered) {
  retry_settings s;
  s.base = milliseconds(100);
  s.factor = 2;
  s.cap = milliseconds(5000);
  std::mt19937_64 rng(42);
  attempt_outcome o{503, {}, {}};
  for (std::uint32_t attempt = 1; attempt <= 10; ++attempt) {
    double ceiling = std::min(5000.0, 100.0 * std::pow(2.0, attempt - 1));
    std::set<std::int64_t> distinct;
    double sum = 0;
    for (int i = 0; i < 2000; ++i) {
      auto d = next_delay(s, attempt, o, rng, 0).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      distinct.insert(d);
      sum += static_cast<double>(d);
    }
    // Full jitter: uniform over [0, ceiling], so the mean is about half the ceiling.
    EXPECT_NEAR(sum / 2000, ceiling / 2, ceiling * 0.06) << attempt;
    EXPECT_GT(distinct.size(), std::min<std::size_t>(50, static_cast<std::size_t>(ceiling) / 2));
  }
}

TEST(RetryPolicy, RetryAfterSecondsAndDateAreObeyedAndBounded) {
  retry_settings s;
  s.max_retry_after = milliseconds(60'000);
  std::mt19937_64 rng(1);
  EXPECT_EQ(next_delay(s, 1, {429, {}, "7"}, rng, 0), milliseconds(7000));
  EXPECT_EQ(next_delay(s, 1, {503, {}, "3600"}, rng, 0), milliseconds(60'000));  // bounded
  // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
  EXPECT_EQ(next_delay(s, 1, {503, {}, "Sun, 06 Nov 1994 08:49:37 GMT"}, rng, 784111777 - 30),
            milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 5), std::chrono::seconds(0));
  EXPECT_FALSE(parse_retry_after("soon", 0).has_value());
  EXPECT_FALSE(parse_retry_after("-5", 0).has_value());
  EXPECT_FALSE(parse_retry_after("", 0).has_value());
  // A bad Retry-After falls back to backoff rather than retrying at once or never.
  auto d = next_delay(s, 1, {429, {}, "later"}, rng, 0);
  EXPECT_LE(d, s.base);
}

TEST(RetryPolicy, LimitsOnAttemptsAndAge) {
  retry_settings s;
  s.max_attempts = 3;
  s.max_age = milliseconds(10'000);
  EXPECT_TRUE(may_retry(s, 2, milliseconds(100)));
  EXPECT_FALSE(may_retry(s, 3, milliseconds(100)));
  EXPECT_FALSE(may_retry(s, 1, milliseconds(10'000)));
}

// 9.3e15 s is past what milliseconds can hold: the conversion used to wrap to a negative
// delay and the retry went out at once. Saturated, it waits as long as allowed.
TEST(RetryPolicy, HugeRetryAfterSaturatesInsteadOfOverflowing) {
  retry_settings s;
  std::mt19937_64 rng(1);
  for (const char* v : {"9300000000000000", "9223372036854775807", "99999999999999999999999"}) {
    attempt_outcome o{503, {}, v};
    EXPECT_EQ(next_delay(s, 1, o, rng, 0), s.max_retry_after) << v;
    auto ra = parse_retry_after(v, 0);
    ASSERT_TRUE(ra) << v;
    EXPECT_GT(ra->count(), 0) << v;
  }
}

}  // namespace
}  // namespace syndic::engine
