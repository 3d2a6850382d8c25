// Outlets' progress: the cursor advancing over done-above seqs, retries, dead letters,
// replay, circuit state; on each backend (real SQLite files, a real PostgreSQL server).

#include "store_test_support.hpp"

#include <algorithm>
#include <future>
#include <random>
#include <set>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

struct StoreProgress : backend_test {};
SYNDIC_STORE_BACKENDS(StoreProgress);

seq_t cursor_of(store& db, const std::string& outlet) {
  auto p = db.progress(outlet);
  EXPECT_TRUE(p.ok()) << p.status.message;
  return p.value ? p.value->cursor : 0;
}

std::vector<seq_range> ranges_of(store& db, const std::string& outlet) {
  auto r = db.done_above(outlet, 0, 1'000'000);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return r.value;
}

TEST_P(StoreProgress, StartOutletCreatesProgressOnce) {
  auto db = open();
  EXPECT_FALSE(db->progress("o").value.has_value());
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 40}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 40u);
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 99}}).ok());  // already started: unchanged
  EXPECT_EQ(cursor_of(*db, "o"), 40u);
}

TEST_P(StoreProgress, DoneInOrderAdvancesTheCursor) {
  auto db = open();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 1}, mark_done{"o", 2}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 2u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 3, 10}}).ok());  // a range: 3..10
  EXPECT_EQ(cursor_of(*db, "o"), 10u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 4}}).ok());  // below the cursor: nothing moves
  EXPECT_EQ(cursor_of(*db, "o"), 10u);
  EXPECT_TRUE(ranges_of(*db, "o").empty());
}

TEST_P(StoreProgress, DoneAboveTheCursorIsHeldThenSwallowed) {
  auto db = open();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}}).ok());
  ASSERT_TRUE(db->write_sync({mark_done{"o", 3}, mark_done{"o", 5}, mark_done{"o", 6}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 0u);
  EXPECT_EQ(ranges_of(*db, "o"), (std::vector<seq_range>{{3, 3}, {5, 6}}));
  ASSERT_TRUE(db->write_sync({mark_done{"o", 4}}).ok());  // joins 3 and 5..6
  EXPECT_EQ(ranges_of(*db, "o"), (std::vector<seq_range>{{3, 6}}));
  EXPECT_EQ(db->progress("o").value->done_above, 4u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 1}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 1u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 2}}).ok());  // 2 closes the gap: cursor to 6
  EXPECT_EQ(cursor_of(*db, "o"), 6u);
  EXPECT_TRUE(ranges_of(*db, "o").empty());
  EXPECT_EQ(db->progress("o").value->done_above, 0u);
}

TEST_P(StoreProgress, DoneAbovePagesFromAGivenSeq) {
  auto db = open();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 3, 5}, mark_done{"o", 8, 9},
                              mark_done{"o", 20, 30}})
                  .ok());
  EXPECT_EQ(db->done_above("o", 4, 10).value, (std::vector<seq_range>{{3, 5}, {8, 9}, {20, 30}}));
  EXPECT_EQ(db->done_above("o", 5, 10).value, (std::vector<seq_range>{{8, 9}, {20, 30}}));
  EXPECT_EQ(db->done_above("o", 6, 1).value, (std::vector<seq_range>{{8, 9}}));
  EXPECT_TRUE(db->done_above("o", 30, 10).value.empty());
}

// Against a model: seqs 1..N resolved in a random order, in random groups of marks and
// transactions; after each write the cursor and the done ranges match the model's.
TEST_P(StoreProgress, RandomOrderMatchesAModel) {
  options o;
  o.commit_interval = 0ms;
  auto db = open(o);
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}}).ok());
  std::mt19937 rng(12345);
  constexpr seq_t n = 600;
  // Split 1..n into runs of 1-4 seqs (each one mark_done range), shuffled.
  std::vector<seq_range> runs;
  for (seq_t s = 1; s <= n;) {
    const seq_t len = std::min<seq_t>(n - s + 1, 1 + rng() % 4);
    runs.push_back({s, s + len - 1});
    s += len;
  }
  std::shuffle(runs.begin(), runs.end(), rng);
  std::set<seq_t> done;
  std::size_t i = 0;
  while (i < runs.size()) {
    std::vector<write_op> ops;
    const std::size_t k = std::min<std::size_t>(runs.size() - i, 1 + rng() % 8);
    for (std::size_t j = 0; j < k; ++j, ++i) {
      ops.push_back(mark_done{"o", runs[i].first, runs[i].last});
      for (seq_t s = runs[i].first; s <= runs[i].last; ++s) done.insert(s);
    }
    ASSERT_TRUE(db->write_sync(std::move(ops)).ok());
    seq_t cursor = 0;
    while (done.count(cursor + 1)) ++cursor;
    std::vector<seq_range> expect;
    for (seq_t s : done) {
      if (s <= cursor) continue;
      if (!expect.empty() && expect.back().last + 1 == s) {
        expect.back().last = s;
      } else {
        expect.push_back({s, s});
      }
    }
    ASSERT_EQ(cursor_of(*db, "o"), cursor) << "after " << i << " runs";
    ASSERT_EQ(ranges_of(*db, "o"), expect) << "after " << i << " runs";
  }
  EXPECT_EQ(cursor_of(*db, "o"), n);
}

TEST_P(StoreProgress, ManyOutletsManyMarksInOneTransaction) {
  auto db = open();
  std::vector<write_op> ops;
  for (int k = 0; k < 10; ++k) ops.push_back(start_outlet{"o" + std::to_string(k), 0});
  std::vector<write_op> marks;
  for (seq_t s = 1; s <= 1000; ++s)
    for (int k = 0; k < 10; ++k) marks.push_back(mark_done{"o" + std::to_string(k), s});
  std::shuffle(marks.begin(), marks.end(), std::mt19937(7));
  ops.insert(ops.end(), marks.begin(), marks.end());
  ASSERT_TRUE(db->write_sync(std::move(ops)).ok());
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(cursor_of(*db, "o" + std::to_string(k)), 1000u);
    EXPECT_TRUE(ranges_of(*db, "o" + std::to_string(k)).empty());
  }
  EXPECT_EQ(db->all_progress().value.size(), 10u);
}

TEST_P(StoreProgress, RetryIsKeptUntilDone) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  auto db = open(o);
  const store_time at = clock.now() + 30s;
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 2},
                              mark_retry{"o", {1, 2, at, "msg_1"}, "HTTP 503"}})
                  .ok());
  auto r = db->retries("o", 0, 10);
  ASSERT_EQ(r.value.size(), 1u);
  EXPECT_EQ(r.value[0].seq, 1u);
  EXPECT_EQ(r.value[0].attempts, 2u);
  EXPECT_EQ(r.value[0].next_attempt, at);
  EXPECT_EQ(r.value[0].delivery_id, "msg_1");
  auto p = db->progress("o").value;
  EXPECT_EQ(p->cursor, 0u);  // 1 is owed: the cursor waits for it
  EXPECT_EQ(p->retries, 1u);
  EXPECT_EQ(p->last_error, "HTTP 503");
  EXPECT_EQ(p->last_error_at, clock.now());

  // A later attempt replaces the retry; success removes it and moves the cursor past 2.
  ASSERT_TRUE(db->write_sync({mark_retry{"o", {1, 3, at + 60s, "msg_1"}, "HTTP 502"}}).ok());
  EXPECT_EQ(db->retries("o", 0, 10).value.at(0).attempts, 3u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 1}}).ok());
  EXPECT_TRUE(db->retries("o", 0, 10).value.empty());
  EXPECT_EQ(cursor_of(*db, "o"), 2u);
}

TEST_P(StoreProgress, DeadLetterResolvesItsSeqAndKeepsItsError) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  auto db = open(o);
  const store_time at = clock.now();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_retry{"o", {1, 1, at, "msg_1"}, "timeout"},
                              mark_done{"o", 2},
                              mark_dead{"o", {1, 400, "HTTP 400: bad payload", 2, at, "msg_1"}}})
                  .ok());
  EXPECT_EQ(cursor_of(*db, "o"), 2u);  // a dead letter does not hold the cursor back
  EXPECT_TRUE(db->retries("o", 0, 10).value.empty());
  auto d = db->dead_letters("o", 0, 10);
  ASSERT_EQ(d.value.size(), 1u);
  EXPECT_EQ(d.value[0].seq, 1u);
  EXPECT_EQ(d.value[0].status, 400);
  EXPECT_EQ(d.value[0].error, "HTTP 400: bad payload");
  EXPECT_EQ(d.value[0].attempts, 2u);
  EXPECT_EQ(d.value[0].at, at);
  EXPECT_EQ(d.value[0].delivery_id, "msg_1");
  auto p = db->progress("o").value;
  EXPECT_EQ(p->dead_letters, 1u);
  EXPECT_EQ(p->last_error, "HTTP 400: bad payload");
}

TEST_P(StoreProgress, RetryingDeadLettersMakesThemRetriesAgain) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  auto db = open(o);
  const store_time at = clock.now();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_dead{"o", {1, 404, "gone?", 1, at, "msg_1"}},
                              mark_dead{"o", {2, 400, "bad", 1, at, "msg_2"}},
                              mark_dead{"o", {3, 400, "bad", 1, at, "msg_3"}}})
                  .ok());
  EXPECT_EQ(cursor_of(*db, "o"), 3u);
  ASSERT_TRUE(db->write_sync({retry_dead_letters{"o", {2}, at + 1s}}).ok());
  auto r = db->retries("o", 0, 10).value;
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 2u);
  EXPECT_EQ(r[0].attempts, 0u);
  EXPECT_EQ(r[0].next_attempt, at + 1s);
  EXPECT_EQ(r[0].delivery_id, "msg_2");  // the same id: receivers de-duplicate on it
  EXPECT_EQ(db->dead_letters("o", 0, 10).value.size(), 2u);

  ASSERT_TRUE(db->write_sync({retry_dead_letters{"o", {}, at + 2s}}).ok());  // all the rest
  EXPECT_EQ(db->retries("o", 0, 10).value.size(), 3u);
  EXPECT_TRUE(db->dead_letters("o", 0, 10).value.empty());
  // A retried dead letter below the cursor, delivered: its retry goes, the cursor stays.
  ASSERT_TRUE(db->write_sync({mark_done{"o", 2}}).ok());
  EXPECT_EQ(db->retries("o", 0, 10).value.size(), 2u);
  EXPECT_EQ(cursor_of(*db, "o"), 3u);
}

// A dead letter above the cursor is resolved (in a done range); retried, it is owed again, so
// it leaves the range: a restart that walks the log from the cursor, skipping done ranges,
// meets it again (the owed pairs stay "above the cursor, not in a range" plus the retries).
TEST_P(StoreProgress, RetriedDeadLetterAboveTheCursorLeavesItsDoneRange) {
  auto db = open();
  const store_time at{};
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 5}, mark_done{"o", 7},
                              mark_dead{"o", {3, 400, "bad", 1, at, "m3"}},
                              mark_dead{"o", {6, 400, "bad", 1, at, "m6"}}})
                  .ok());
  EXPECT_EQ(ranges_of(*db, "o"), (std::vector<seq_range>{{3, 3}, {5, 7}}));
  ASSERT_TRUE(db->write_sync({retry_dead_letters{"o", {6}, at}}).ok());
  EXPECT_EQ(ranges_of(*db, "o"), (std::vector<seq_range>{{3, 3}, {5, 5}, {7, 7}}));
  ASSERT_TRUE(db->write_sync({retry_dead_letters{"o", {}, at}}).ok());  // 3 as well
  EXPECT_EQ(ranges_of(*db, "o"), (std::vector<seq_range>{{5, 5}, {7, 7}}));
  EXPECT_EQ(db->retries("o", 0, 10).value.size(), 2u);
  // The cursor now waits for them: 1, 2 and 4 delivered leave it at 2 (3 is owed).
  ASSERT_TRUE(db->write_sync({mark_done{"o", 1, 2}, mark_done{"o", 4}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 2u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 3}, mark_done{"o", 6}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 7u);
  EXPECT_TRUE(db->retries("o", 0, 10).value.empty());
  EXPECT_TRUE(ranges_of(*db, "o").empty());
}

TEST_P(StoreProgress, DroppingDeadLetters) {
  auto db = open();
  const store_time at{};
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_dead{"o", {1, 400, "a", 1, at, "m1"}},
                              mark_dead{"o", {2, 400, "b", 1, at, "m2"}},
                              mark_dead{"o", {3, 400, "c", 1, at, "m3"}}})
                  .ok());
  ASSERT_TRUE(db->write_sync({drop_dead_letters{"o", {1, 3}}}).ok());
  auto d = db->dead_letters("o", 0, 10).value;
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].seq, 2u);
  ASSERT_TRUE(db->write_sync({drop_dead_letters{"o", {}}}).ok());
  EXPECT_TRUE(db->dead_letters("o", 0, 10).value.empty());
  EXPECT_EQ(cursor_of(*db, "o"), 3u);  // dropped pairs stay resolved
}

TEST_P(StoreProgress, ReplaySetsTheCursorBackAndForgetsWhatIsAbove) {
  const store_time at{};
  auto db = open();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 1, 10},
                              mark_dead{"o", {11, 400, "bad", 1, at, "m11"}}, mark_done{"o", 14},
                              mark_retry{"o", {12, 1, at, "m12"}, "e"},
                              mark_dead{"o", {3, 400, "old", 1, at, "m3"}}})
                  .ok());
  EXPECT_EQ(cursor_of(*db, "o"), 11u);
  ASSERT_TRUE(db->write_sync({replay_outlet{"o", 5}}).ok());
  auto p = db->progress("o").value;
  EXPECT_EQ(p->cursor, 4u);
  EXPECT_EQ(p->done_above, 0u);  // 14 is owed again
  EXPECT_EQ(p->retries, 0u);     // 12 is owed again, from the range
  ASSERT_EQ(db->dead_letters("o", 0, 10).value.size(), 1u);  // below 5: kept
  EXPECT_EQ(db->dead_letters("o", 0, 10).value[0].seq, 3u);
  // Delivering from 5 on moves it forward again.
  ASSERT_TRUE(db->write_sync({mark_done{"o", 5, 14}}).ok());
  EXPECT_EQ(cursor_of(*db, "o"), 14u);
}

TEST_P(StoreProgress, CircuitStateRoundTrips) {
  manual_clock clock;
  auto db = open();
  circuit_state c{circuit_mode::open, 5, clock.now(), clock.now() + 30s};
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 7}, set_circuit{"o", c}}).ok());
  auto p = db->progress("o").value;
  EXPECT_EQ(p->circuit.mode, circuit_mode::open);
  EXPECT_EQ(p->circuit.failures, 5u);
  EXPECT_EQ(p->circuit.since, c.since);
  EXPECT_EQ(p->circuit.probe_at, c.probe_at);
  EXPECT_EQ(p->cursor, 7u);
}

TEST_P(StoreProgress, ForgetOutletRemovesEverything) {
  const store_time at{};
  auto db = open();
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 5}, mark_retry{"o", {1, 1, at, "m"}, ""},
                              mark_dead{"o", {2, 400, "x", 1, at, "m2"}}, start_outlet{"p", 3}})
                  .ok());
  ASSERT_TRUE(db->write_sync({forget_outlet{"o"}}).ok());
  EXPECT_FALSE(db->progress("o").value.has_value());
  EXPECT_TRUE(db->done_above("o", 0, 10).value.empty());
  EXPECT_TRUE(db->retries("o", 0, 10).value.empty());
  EXPECT_TRUE(db->dead_letters("o", 0, 10).value.empty());
  EXPECT_EQ(cursor_of(*db, "p"), 3u);
  // Started again in the same transaction as it is forgotten: a fresh start.
  ASSERT_TRUE(db->write_sync({forget_outlet{"p"}, start_outlet{"p", 9}}).ok());
  EXPECT_EQ(cursor_of(*db, "p"), 9u);
}

// A write refused on its own (an invalid op) fails alone: the others in its group commit.
TEST_P(StoreProgress, InvalidWriteFailsAloneInItsGroup) {
  options o;
  o.commit_interval = 50ms;
  auto db = open(o);
  std::promise<store_status> a, b, c;
  db->write({start_outlet{"o", 0}, mark_done{"o", 1}}, [&](store_status s) { a.set_value(s); });
  db->write({mark_done{"o", 2}, mark_done{"", 3}}, [&](store_status s) { b.set_value(s); });
  db->write({mark_done{"o", 0}}, [&](store_status s) { c.set_value(s); });
  EXPECT_TRUE(a.get_future().get().ok());
  auto sb = b.get_future().get();
  EXPECT_EQ(sb.code, store_errc::invalid_argument);
  EXPECT_NE(sb.message.find("empty outlet id"), std::string::npos) << sb.message;
  EXPECT_EQ(c.get_future().get().code, store_errc::invalid_argument);
  EXPECT_EQ(cursor_of(*db, "o"), 1u);  // the refused write's mark of 2 did not apply
  EXPECT_EQ(db->stats().transactions, 1u);
}

}  // namespace
}  // namespace syndic::engine
