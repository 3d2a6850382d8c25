// The ready queue keeps submitted vectors as they are: the order of every operation mix
// matches a std::deque's, and nothing is held once popped past.

#include "delivery/segment_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <vector>

namespace syndic::engine::detail {
namespace {

std::vector<int> contents(segment_queue<int>& q) {
  std::vector<int> out;
  q.for_each([&](int x) { out.push_back(x); });
  return out;
}

TEST(SegmentQueue, EmptyAllocatesNothingAndSaysSo) {
  segment_queue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  q.append({});
  q.prepend({});
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(contents(q).empty());
}

TEST(SegmentQueue, AdoptsTheVectorItIsGiven) {
  segment_queue<int> q;
  std::vector<int> v{1, 2, 3};
  const int* storage = v.data();
  q.append(std::move(v));
  EXPECT_EQ(&q.front(), storage);  // not copied: the same memory
  EXPECT_EQ(q.size(), 3u);
}

TEST(SegmentQueue, KeepsOrderAcrossSegmentsAndFrontInsertions) {
  segment_queue<int> q;
  q.append({3, 4});
  q.append({5});
  q.push_back(6);
  q.prepend({1, 2});
  EXPECT_EQ(contents(q), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  q.pop_front();
  q.pop_front();
  q.pop_front();                 // 3 leaves a free slot in front of 4
  q.push_front(30);              // taken back into that slot
  EXPECT_EQ(contents(q), (std::vector<int>{30, 4, 5, 6}));
  q.push_front(20);              // no free slot: a segment of its own
  EXPECT_EQ(contents(q), (std::vector<int>{20, 30, 4, 5, 6}));
  EXPECT_EQ(q.size(), 5u);
  q.clear();
  EXPECT_TRUE(q.empty());
  q.push_back(7);  // usable after clear
  EXPECT_EQ(contents(q), (std::vector<int>{7}));
}

TEST(SegmentQueue, ASegmentIsFreedWithItsLastPop) {
  segment_queue<std::shared_ptr<int>> q;
  auto a = std::make_shared<int>(1);
  auto b = std::make_shared<int>(2);
  std::vector<std::shared_ptr<int>> v{a, b};
  q.append(std::move(v));
  q.pop_front();  // not moved out: held until the segment goes
  EXPECT_EQ(a.use_count(), 2);
  q.pop_front();
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_EQ(b.use_count(), 1);
  EXPECT_TRUE(q.empty());
}

TEST(SegmentQueue, MatchesADequeUnderRandomOperations) {
  std::mt19937 rng(7);
  segment_queue<int> q;
  std::deque<int> ref;
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    switch (rng() % 6) {
      case 0: {
        std::vector<int> v(rng() % 4);
        for (int& x : v) x = next++;
        ref.insert(ref.end(), v.begin(), v.end());
        q.append(std::move(v));
        break;
      }
      case 1: {
        std::vector<int> v(rng() % 3);
        for (int& x : v) x = next++;
        ref.insert(ref.begin(), v.begin(), v.end());
        q.prepend(std::move(v));
        break;
      }
      case 2:
        ref.push_back(next);
        q.push_back(next++);
        break;
      case 3:
        ref.push_front(next);
        q.push_front(next++);
        break;
      default:
        if (!ref.empty()) {
          ASSERT_EQ(q.front(), ref.front());
          ref.pop_front();
          q.pop_front();
        }
    }
    ASSERT_EQ(q.size(), ref.size());
    ASSERT_EQ(q.empty(), ref.empty());
    if (step % 997 == 0) ASSERT_EQ(contents(q), std::vector<int>(ref.begin(), ref.end()));
  }
}

}  // namespace
}  // namespace syndic::engine::detail
