// The token bucket holds its promise: at most burst + rate * t requests in any window t.

#include <syndic/engine/token_bucket.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace syndic::engine {
namespace {

using clock = token_bucket::clock;
using std::chrono::milliseconds;

TEST(TokenBucket, BurstThenRate) {
  clock::time_point t0{};
  token_bucket b(10, 5, t0);
  int taken = 0;
  while (b.try_take(t0)) ++taken;
  EXPECT_EQ(taken, 5);
  EXPECT_FALSE(b.try_take(t0 + milliseconds(50)));
  EXPECT_TRUE(b.try_take(t0 + milliseconds(101)));
  EXPECT_GT(b.wait(t0 + milliseconds(101)), clock::duration::zero());
  EXPECT_LE(b.wait(t0 + milliseconds(101)), milliseconds(101));
}

TEST(TokenBucket, NeverMoreThanBurstPlusRateTimesWindow) {
  // A greedy client asks at random moments over 60 s of simulated time; check every window.
  const double rate = 10, burst = 5;
  clock::time_point t0{};
  token_bucket b(rate, burst, t0);
  std::mt19937 rng(7);
  std::vector<clock::time_point> granted;
  clock::time_point now = t0;
  while (now < t0 + std::chrono::seconds(60)) {
    now += milliseconds(std::uniform_int_distribution<int>(0, 40)(rng));
    if (b.try_take(now)) granted.push_back(now);
  }
  ASSERT_GT(granted.size(), 500u);  // the client was kept busy, not starved
  for (std::size_t i = 0; i < granted.size(); ++i)
    for (std::size_t j = i; j < granted.size(); ++j) {
      double window = std::chrono::duration<double>(granted[j] - granted[i]).count();
      ASSERT_LE(static_cast<double>(j - i + 1), burst + rate * window + 1e-9)
          << "window " << window << " s";
    }
}

TEST(TokenBucket, UnlimitedWhenRateIsZero) {
  clock::time_point t0{};
  token_bucket b(0, 1, t0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(t0));
}

// A tiny rate used to make wait() overflow into a negative duration, and the shard's timer
// fired at once, again and again. The wait is clamped to a day.
TEST(TokenBucket, TinyRateGivesALongFiniteWaitNotAnOverflow) {
  clock::time_point t0 = clock::now();
  for (double rate : {1e-300, 1e-12, 1e-6}) {
    token_bucket b(rate, 1, t0);
    ASSERT_TRUE(b.try_take(t0));
    auto w = b.wait(t0);
    EXPECT_GT(w, std::chrono::hours(1)) << rate;
    EXPECT_LE(w, std::chrono::hours(24) + milliseconds(1)) << rate;
    EXPECT_GT(t0 + w, t0) << rate;  // a time point the timer can be set to
  }
}

}  // namespace
}  // namespace syndic::engine
