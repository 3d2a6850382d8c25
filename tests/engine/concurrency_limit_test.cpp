// The adaptive per-outlet concurrency policy, fed synthetic samples (no clock, no sockets).

#include "delivery/concurrency_limit.hpp"

#include <gtest/gtest.h>

namespace syndic::engine::detail {
namespace {

using namespace std::chrono_literals;

// Feeds `n` samples as a shard would see them with every allowed request in flight.
void feed(concurrency_limit& c, int n, std::chrono::microseconds rtt, std::size_t queue) {
  for (int i = 0; i < n; ++i) c.on_sample(rtt, c.limit(), queue);
}

TEST(ConcurrencyLimit, StartsAtOne) {
  concurrency_limit c(8);
  EXPECT_EQ(c.limit(), 1u);
  EXPECT_EQ(c.max(), 8u);
  EXPECT_EQ(concurrency_limit(0).max(), 1u);  // a max of 0 still lets one through
}

TEST(ConcurrencyLimit, NeverGrowsWhileTheQueueIsNotBackingUp) {
  concurrency_limit c(8);
  // A slow remote, but nothing waits behind the request in flight (or exactly as many as are in flight).
  for (std::size_t queue : {0, 1}) feed(c, 1000, 200ms, queue);
  EXPECT_EQ(c.limit(), 1u);
}

TEST(ConcurrencyLimit, NoGrowthWhenTheBacklogDrainsSoon) {
  concurrency_limit c(8);
  // 19 queued behind a 100 us answer: 2 ms of work at one connection, not worth a second.
  for (std::size_t queue = 19; queue > 0; --queue) c.on_sample(100us, 1, queue);
  EXPECT_EQ(c.limit(), 1u);
  // Nor 19 behind a 50 ms answer (a loaded client or server: 1 s), within the 5 s default.
  for (std::size_t queue = 19; queue > 0; --queue) c.on_sample(50ms, 1, queue);
  EXPECT_EQ(c.limit(), 1u);
  // With a shorter horizon it is.
  concurrency_limit eager(8, 200ms);
  for (std::size_t queue = 19; queue > 19 - concurrency_limit::warmup; --queue) {
    EXPECT_EQ(eager.limit(), 1u);  // not before `warmup` samples
    eager.on_sample(50ms, 1, queue);
  }
  EXPECT_EQ(eager.limit(), 2u);
}

// A new connection's first answer carries its set-up (a TLS handshake queued behind hundreds
// of others): taken as the no-load minimum, it made every outlet with a deep queue open a
// second connection at once.
TEST(ConcurrencyLimit, FirstAnswerWithConnectionSetUpDoesNotGrowTheLimit) {
  concurrency_limit c(4);
  c.on_sample(2s, 1, 19);  // handshake included: 19 x 2 s is far past the 5 s horizon
  EXPECT_EQ(c.limit(), 1u);
  for (std::size_t queue = 18; queue > 0; --queue) c.on_sample(20ms, 1, queue);  // 0.4 s of work
  EXPECT_EQ(c.limit(), 1u);
}

TEST(ConcurrencyLimit, GrowsToMaxWithADeepQueueAndFlatLatency) {
  concurrency_limit c(8);
  std::uint32_t last = c.limit();
  for (int i = 0; i < 200; ++i) {
    c.on_sample(50ms, c.limit(), 1000);
    EXPECT_GE(c.limit(), last);  // never shrinks while latency stays flat
    EXPECT_LE(c.limit() - last, 1u);  // one step at a time
    last = c.limit();
  }
  EXPECT_EQ(c.limit(), 8u);  // and never past its max
}

TEST(ConcurrencyLimit, NoGrowthWhenLessIsInFlightThanAllowed) {
  concurrency_limit c(8);
  feed(c, 10, 50ms, 1000);
  ASSERT_GT(c.limit(), 2u);
  std::uint32_t before = c.limit();
  // Held back elsewhere (the shard's or the host's cap): the limit is not what binds.
  for (int i = 0; i < 100; ++i) c.on_sample(50ms, 1, 1000);
  EXPECT_EQ(c.limit(), before);
}

TEST(ConcurrencyLimit, ShrinksWhenLatencyRises) {
  concurrency_limit c(16);
  feed(c, 500, 10ms, 100'000);
  ASSERT_EQ(c.limit(), 16u);
  // The remote now queues our requests: the round trip is 4x the minimum.
  std::uint32_t last = c.limit();
  for (int i = 0; i < 200 && c.limit() > 1; ++i) {
    c.on_sample(40ms, c.limit(), 1000);
    EXPECT_LE(c.limit(), last);
    EXPECT_GE(c.limit(), last / 2);  // never more than halved at once
    last = c.limit();
  }
  EXPECT_EQ(c.limit(), 1u);
}

TEST(ConcurrencyLimit, ShrinksOncePerRound) {
  concurrency_limit c(8);
  feed(c, 100, 10ms, 100'000);
  ASSERT_EQ(c.limit(), 8u);
  c.on_sample(100ms, 8, 1000);
  EXPECT_EQ(c.limit(), 4u);
  // The other answers sent at the old limit come back slow too: no further cut this round.
  for (int i = 0; i < 3; ++i) c.on_sample(100ms, 4, 1000);
  EXPECT_EQ(c.limit(), 4u);
  c.on_sample(100ms, 4, 1000);
  EXPECT_EQ(c.limit(), 2u);
}

TEST(ConcurrencyLimit, DropsHalve) {
  concurrency_limit c(8);
  feed(c, 100, 50ms, 1000);
  ASSERT_EQ(c.limit(), 8u);
  c.on_drop();
  EXPECT_EQ(c.limit(), 4u);
  c.on_drop();
  c.on_drop();
  c.on_drop();
  EXPECT_EQ(c.limit(), 1u);  // never below one
}

TEST(ConcurrencyLimit, MinimumIsNotLearntUnderOwnLoad) {
  // Samples taken with several in flight measure our own load, not the remote's no-load
  // round trip: they never raise the minimum, however many.
  concurrency_limit c(8);
  c.on_sample(10ms, 1, 0);
  for (int i = 0; i < 4 * concurrency_limit::window; ++i) c.on_sample(25ms, 3, 0);
  EXPECT_EQ(c.min_rtt(), 10ms);
}

TEST(ConcurrencyLimit, SaturatedRemoteStaysNearOne) {
  // A remote that serves one request at a time: the round trip grows with what we send, so
  // more concurrency only adds waiting. The limit may probe 2, never settles there.
  concurrency_limit c(8);
  int at_one = 0;
  for (int i = 0; i < 1000; ++i) {
    c.on_sample(std::chrono::milliseconds(30 * c.limit()), c.limit(), 1000);
    EXPECT_LE(c.limit(), 2u);
    at_one += c.limit() == 1;
  }
  EXPECT_GT(at_one, 250);  // a third: one sample at 1, a round of two at 2, back to 1
}

TEST(ConcurrencyLimit, MinimumIsReestimated) {
  concurrency_limit c(8);
  feed(c, 10, 1ms, 0);
  EXPECT_EQ(c.min_rtt(), 1ms);
  // The remote became 10x slower for good: judged by its old speed it never grows again.
  // The window that saw the 1 ms samples keeps 1 ms; the next one holds only 10 ms.
  feed(c, 2 * concurrency_limit::window - 11, 10ms, 100'000);
  EXPECT_EQ(c.min_rtt(), 1ms);
  EXPECT_EQ(c.limit(), 1u);
  feed(c, 1, 10ms, 100'000);
  EXPECT_EQ(c.min_rtt(), 10ms);
  feed(c, 100, 10ms, 100'000);
  EXPECT_EQ(c.limit(), 8u);
}

TEST(ConcurrencyLimit, SetMaxClampsTheLimit) {
  concurrency_limit c(8);
  feed(c, 100, 50ms, 1000);
  ASSERT_EQ(c.limit(), 8u);
  c.set_max(3);
  EXPECT_EQ(c.limit(), 3u);
  feed(c, 100, 50ms, 1000);
  EXPECT_EQ(c.limit(), 3u);
}

}  // namespace
}  // namespace syndic::engine::detail
