// The PostgreSQL store's progress model (engine/src/store/progress_model.cpp), without a
// database: the effect of each progress write on one outlet, and the rows written back. The
// last tests check it against a reference that holds every row (a simulated database): a
// round loaded into the model, applied, and its diff applied to the database must leave what
// the reference has, whatever the ops.

#include "store/progress_model.hpp"

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>

namespace syndic::engine {
inline void PrintTo(const seq_range& r, std::ostream* os) { *os << r.first << ".." << r.last; }
}  // namespace syndic::engine

namespace syndic::engine::progress {
namespace {

using namespace std::chrono_literals;
using ranges_t = std::vector<seq_range>;

const store_time t0 = store_time(std::chrono::microseconds(1'767'225'600'000'000));

snapshot stored_at(seq_t cursor, ranges_t ranges = {}) {
  snapshot s;
  s.stored = row{};
  s.stored->cursor = cursor;
  s.ranges = std::move(ranges);
  return s;
}

TEST(ProgressModel, StartCreatesTheRowOnce) {
  outlet_model m{snapshot{}};
  EXPECT_FALSE(m.exists());
  m.start(40);
  m.start(99);
  EXPECT_EQ(m.current().cursor, 40u);
  auto c = m.diff();
  EXPECT_EQ(c.row_op, changes::row_change::write);
  EXPECT_EQ(c.row_value.cursor, 40u);

  outlet_model started{stored_at(7)};
  started.start(99);  // already there: nothing to write
  EXPECT_EQ(started.current().cursor, 7u);
  EXPECT_TRUE(started.diff().empty());
}

TEST(ProgressModel, DoneAboveIsHeldThenSwallowed) {
  outlet_model m{stored_at(0)};
  m.done(3, 0);
  m.done(5, 0);
  m.done(6, 0);
  EXPECT_EQ(m.current().cursor, 0u);
  EXPECT_EQ(m.ranges(), (ranges_t{{3, 3}, {5, 6}}));
  m.done(4, 0);  // joins 3 and 5..6
  EXPECT_EQ(m.ranges(), (ranges_t{{3, 6}}));
  m.done(1, 0);
  EXPECT_EQ(m.current().cursor, 1u);
  m.done(2, 0);  // closes the gap
  EXPECT_EQ(m.current().cursor, 6u);
  EXPECT_TRUE(m.ranges().empty());
  m.done(4, 0);  // below the cursor
  EXPECT_EQ(m.current().cursor, 6u);
}

TEST(ProgressModel, ADoneSpanOverlappingRangesMergesThemAll) {
  outlet_model m{stored_at(0, {{3, 4}, {7, 7}, {10, 12}, {20, 20}})};
  m.done(5, 11);
  EXPECT_EQ(m.ranges(), (ranges_t{{3, 12}, {20, 20}}));
  auto c = m.diff();
  EXPECT_EQ(c.ranges_deleted, (std::vector<seq_t>{7, 10}));
  EXPECT_EQ(c.ranges_written, (ranges_t{{3, 12}}));
  EXPECT_EQ(c.row_op, changes::row_change::none);  // the cursor did not move
}

TEST(ProgressModel, TheCursorSwallowsStoredRangesAndTheDiffDeletesThem) {
  outlet_model m{stored_at(10, {{12, 15}, {17, 17}, {30, 31}})};
  m.done(16, 0);
  m.done(11, 0);
  EXPECT_EQ(m.current().cursor, 17u);
  auto c = m.diff();
  EXPECT_EQ(c.row_op, changes::row_change::write);
  EXPECT_EQ(c.row_value.cursor, 17u);
  EXPECT_EQ(c.ranges_deleted, (std::vector<seq_t>{12, 17}));
  EXPECT_TRUE(c.ranges_written.empty());
}

TEST(ProgressModel, DoneOnAnOutletWithoutExceptionsDeletesNothing) {
  outlet_model m{stored_at(0)};
  for (seq_t s = 1; s <= 100; ++s) m.done(s, 0);
  auto c = m.diff();
  EXPECT_TRUE(c.retries.empty());
  EXPECT_TRUE(c.dead.empty());
  EXPECT_EQ(c.row_value.cursor, 100u);
}

TEST(ProgressModel, DoneOnAnOutletWithRetriesDeletesTheirSpansMerged) {
  snapshot s = stored_at(0);
  s.has_retries = true;
  outlet_model m{std::move(s)};
  m.done(1, 0);
  m.done(2, 3);
  m.done(7, 0);
  auto c = m.diff();
  EXPECT_EQ(c.retries.deleted, (ranges_t{{1, 3}, {7, 7}}));
  EXPECT_TRUE(c.dead.deleted.empty());  // it had no dead letters
}

TEST(ProgressModel, ARetryWrittenThenDoneInTheRoundNeverReachesTheDatabase) {
  outlet_model m{stored_at(0)};
  m.retry({1, 2, t0, "msg_1"}, "HTTP 503", t0 + 1s);
  EXPECT_EQ(m.current().last_error, "HTTP 503");
  EXPECT_EQ(m.current().last_error_at, t0 + 1s);
  m.done(1, 0);
  auto c = m.diff();
  EXPECT_TRUE(c.retries.empty());  // written and deleted in the round; none stored
  EXPECT_EQ(c.row_value.cursor, 1u);
  EXPECT_EQ(c.row_value.last_error, "HTTP 503");
}

TEST(ProgressModel, ARetryAfterDoneIsWrittenAfterTheDeletion) {
  snapshot s = stored_at(0);
  s.has_retries = true;
  outlet_model m{std::move(s)};
  m.done(1, 5);
  m.retry({3, 1, t0, "m3"}, "", t0);  // no error: the last error is kept
  auto c = m.diff();
  EXPECT_EQ(c.retries.deleted, (ranges_t{{1, 5}}));
  ASSERT_EQ(c.retries.written.size(), 1u);
  EXPECT_EQ(c.retries.written[0].seq, 3u);
  EXPECT_EQ(c.row_value.last_error, "");
}

TEST(ProgressModel, ARetryAboveTheCursorLeavesItsDoneRange) {
  outlet_model m{stored_at(0, {{3, 7}})};
  m.retry({5, 1, t0, "m5"}, "e", t0);
  EXPECT_EQ(m.ranges(), (ranges_t{{3, 4}, {6, 7}}));
  auto c = m.diff();
  EXPECT_EQ(c.ranges_written, (ranges_t{{3, 4}, {6, 7}}));  // 3 replaced, 6 new
  EXPECT_TRUE(c.ranges_deleted.empty());
}

TEST(ProgressModel, DeadLetterResolvesItsSeqAndReplacesItsRetry) {
  snapshot s = stored_at(0);
  s.has_retries = true;
  outlet_model m{std::move(s)};
  m.done(2, 0);
  m.dead({1, 400, "HTTP 400: bad", 2, t0, "msg_1"});
  EXPECT_EQ(m.current().cursor, 2u);
  EXPECT_EQ(m.current().last_error, "HTTP 400: bad");
  EXPECT_EQ(m.current().last_error_at, t0);
  auto c = m.diff();
  EXPECT_EQ(c.retries.deleted, (ranges_t{{1, 2}}));
  ASSERT_EQ(c.dead.written.size(), 1u);
  EXPECT_EQ(c.dead.written[0].status, 400);
}

TEST(ProgressModel, RetryingDeadLettersNeedsThemLoaded) {
  snapshot s = stored_at(3);
  s.has_dead = true;
  outlet_model m{std::move(s)};
  EXPECT_THROW(m.retry_dead({}, t0), std::logic_error);
  EXPECT_THROW(m.retry_dead({2}, t0), std::logic_error);
}

TEST(ProgressModel, RetryingDeadLettersMovesThemWithTheirIds) {
  snapshot s = stored_at(3, {{5, 7}});
  s.has_dead = true;
  s.dead_ids = std::map<seq_t, std::string>{{1, "m1"}, {2, "m2"}, {6, "m6"}};
  outlet_model m{std::move(s)};
  m.retry_dead({2, 4, 2}, t0 + 1s);  // 4 has none; 2 twice moves once
  m.retry_dead({}, t0 + 2s);         // the rest: 1 and 6
  EXPECT_EQ(m.ranges(), (ranges_t{{5, 5}, {7, 7}}));  // 6 is owed again
  EXPECT_EQ(m.current().cursor, 3u);
  auto c = m.diff();
  EXPECT_EQ(c.dead.deleted, (ranges_t{{1, 2}, {6, 6}}));
  ASSERT_EQ(c.retries.written.size(), 3u);
  EXPECT_EQ(c.retries.written[0].seq, 1u);
  EXPECT_EQ(c.retries.written[0].next_attempt, t0 + 2s);
  EXPECT_EQ(c.retries.written[1].seq, 2u);
  EXPECT_EQ(c.retries.written[1].delivery_id, "m2");
  EXPECT_EQ(c.retries.written[1].next_attempt, t0 + 1s);
  EXPECT_EQ(c.retries.written[1].attempts, 0u);
  EXPECT_EQ(c.retries.written[2].delivery_id, "m6");
  EXPECT_TRUE(c.retries.deleted.empty());
}

TEST(ProgressModel, ADeadLetterOfTheRoundCanBeRetriedWithoutLoading) {
  outlet_model m{stored_at(0)};  // no dead letters stored: nothing to load
  m.dead({1, 400, "x", 1, t0, "m1"});
  m.retry_dead({}, t0);
  auto c = m.diff();
  EXPECT_TRUE(c.dead.empty());
  ASSERT_EQ(c.retries.written.size(), 1u);
  EXPECT_EQ(c.retries.written[0].delivery_id, "m1");
  EXPECT_EQ(m.current().cursor, 1u);  // below the cursor it stays resolved; the retry says owed
}

TEST(ProgressModel, DroppingDeadLetters) {
  snapshot s = stored_at(3);
  s.has_dead = true;
  outlet_model m{std::move(s)};
  m.drop_dead({1, 3});
  EXPECT_EQ(m.diff().dead.deleted, (ranges_t{{1, 1}, {3, 3}}));
  m.drop_dead({});
  EXPECT_EQ(m.diff().dead.deleted, (ranges_t{{0, last_seq}}));
  EXPECT_EQ(m.current().cursor, 3u);
}

TEST(ProgressModel, ReplaySetsTheCursorBackAndForgetsWhatIsAbove) {
  snapshot s = stored_at(11, {{14, 14}});
  s.has_retries = s.has_dead = true;
  outlet_model m{std::move(s)};
  m.replay(5);
  EXPECT_EQ(m.current().cursor, 4u);
  EXPECT_TRUE(m.ranges().empty());
  auto c = m.diff();
  EXPECT_EQ(c.ranges_deleted, (std::vector<seq_t>{14}));
  EXPECT_EQ(c.retries.deleted, (ranges_t{{5, last_seq}}));
  EXPECT_EQ(c.dead.deleted, (ranges_t{{5, last_seq}}));
  EXPECT_EQ(c.row_value.cursor, 4u);
}

TEST(ProgressModel, ForgetErasesTheRowAndStartingAgainWritesAFreshOne) {
  snapshot s = stored_at(5, {{8, 9}});
  s.stored->last_error = "old";
  s.stored->circuit.mode = circuit_mode::open;
  s.has_retries = true;
  outlet_model m{s};
  m.forget();
  auto c = m.diff();
  EXPECT_EQ(c.row_op, changes::row_change::erase);
  EXPECT_EQ(c.ranges_deleted, (std::vector<seq_t>{8}));
  EXPECT_EQ(c.retries.deleted, (ranges_t{{0, last_seq}}));
  EXPECT_TRUE(c.dead.empty());

  outlet_model again{s};
  again.forget();
  again.start(9);
  auto d = again.diff();
  EXPECT_EQ(d.row_op, changes::row_change::write);
  EXPECT_EQ(d.row_value, (row{9, {}, "", {}}));  // no circuit, no error: a fresh start
}

TEST(ProgressModel, MarksOnAnOutletWithoutARowCreateIt) {
  outlet_model m{snapshot{}};
  m.done(3, 0);
  EXPECT_TRUE(m.exists());
  EXPECT_EQ(m.diff().row_op, changes::row_change::write);
  outlet_model d{snapshot{}};
  d.drop_dead({});  // creates nothing
  EXPECT_TRUE(d.diff().empty());
}

// ---- against a reference holding every row ------------------------------------------------

struct db_state {
  std::optional<row> stored;
  std::map<seq_t, seq_t> ranges;
  std::map<seq_t, retry_entry> retries;
  std::map<seq_t, dead_letter> dead;
};

// The reference: store.hpp's semantics on full state, done-above seqs as a set.
struct reference {
  bool exists = false;
  row r;
  std::set<seq_t> above;
  std::map<seq_t, retry_entry> retries;
  std::map<seq_t, dead_letter> dead;

  void resolve(seq_t first, seq_t last) {
    exists = true;
    for (seq_t s = std::max(first, r.cursor + 1); s <= last; ++s) above.insert(s);
    while (above.count(r.cursor + 1)) above.erase(++r.cursor);
  }
  void unresolve(seq_t s) {
    if (s > r.cursor) above.erase(s);
  }
  void done(seq_t first, seq_t last) {
    for (seq_t s = first; s <= last; ++s) retries.erase(s), dead.erase(s);
    resolve(first, last);
  }
  void retry(const retry_entry& e, const std::string& error, store_time now) {
    retries[e.seq] = e;
    unresolve(e.seq);
    exists = true;
    if (!error.empty()) r.last_error = error, r.last_error_at = now;
  }
  void kill(const dead_letter& d) {
    retries.erase(d.seq);
    dead[d.seq] = d;
    r.last_error = d.error;
    r.last_error_at = d.at;
    resolve(d.seq, d.seq);
  }
  void replay(seq_t from) {
    above.clear();
    std::erase_if(retries, [&](auto& kv) { return kv.first >= from; });
    std::erase_if(dead, [&](auto& kv) { return kv.first >= from; });
    r.cursor = from - 1;
    exists = true;
  }
  void retry_dead(const std::vector<seq_t>& seqs, store_time at) {
    std::vector<seq_t> moved;
    for (auto& [s, d] : dead)
      if (seqs.empty() || std::find(seqs.begin(), seqs.end(), s) != seqs.end()) moved.push_back(s);
    for (seq_t s : moved) {
      retries[s] = retry_entry{s, 0, at, dead[s].delivery_id};
      dead.erase(s);
      unresolve(s);
    }
  }
  void drop_dead(const std::vector<seq_t>& seqs) {
    std::erase_if(dead, [&](auto& kv) {
      return seqs.empty() || std::find(seqs.begin(), seqs.end(), kv.first) != seqs.end();
    });
  }
  void forget() { *this = reference{}; }

  std::vector<seq_range> runs() const {
    std::vector<seq_range> v;
    for (seq_t s : above) {
      if (!v.empty() && v.back().last + 1 == s) {
        v.back().last = s;
      } else {
        v.push_back({s, s});
      }
    }
    return v;
  }
};

void apply_diff(db_state& db, const changes& c) {
  if (c.row_op == changes::row_change::write) db.stored = c.row_value;
  if (c.row_op == changes::row_change::erase) db.stored.reset();
  for (seq_t f : c.ranges_deleted) {
    ASSERT_TRUE(db.ranges.count(f)) << "deletes a range not stored: " << f;
    db.ranges.erase(f);
  }
  for (const seq_range& r : c.ranges_written) db.ranges[r.first] = r.last;
  for (const seq_range& d : c.retries.deleted)
    db.retries.erase(db.retries.lower_bound(d.first), db.retries.upper_bound(d.last));
  for (const retry_entry& e : c.retries.written) db.retries[e.seq] = e;
  for (const seq_range& d : c.dead.deleted)
    db.dead.erase(db.dead.lower_bound(d.first), db.dead.upper_bound(d.last));
  for (const dead_letter& e : c.dead.written) db.dead[e.seq] = e;
}

void expect_same(const db_state& db, const reference& ref, int round) {
  ASSERT_EQ(db.stored.has_value(), ref.exists) << "round " << round;
  if (ref.exists) {
    ASSERT_EQ(*db.stored, ref.r) << "round " << round;
  }
  std::vector<seq_range> ranges;
  for (auto [f, l] : db.ranges) ranges.push_back({f, l});
  ASSERT_EQ(ranges, ref.runs()) << "round " << round;
  ASSERT_EQ(db.retries.size(), ref.retries.size()) << "round " << round;
  for (auto& [s, e] : ref.retries) {
    auto it = db.retries.find(s);
    ASSERT_NE(it, db.retries.end()) << "retry " << s << " round " << round;
    EXPECT_EQ(it->second.attempts, e.attempts);
    EXPECT_EQ(it->second.next_attempt, e.next_attempt);
    EXPECT_EQ(it->second.delivery_id, e.delivery_id) << "retry " << s << " round " << round;
  }
  ASSERT_EQ(db.dead.size(), ref.dead.size()) << "round " << round;
  for (auto& [s, d] : ref.dead) {
    auto it = db.dead.find(s);
    ASSERT_NE(it, db.dead.end()) << "dead " << s << " round " << round;
    EXPECT_EQ(it->second.error, d.error);
    EXPECT_EQ(it->second.delivery_id, d.delivery_id);
  }
}

// Random rounds of every progress op over a few dozen seqs: the model plus the diff written
// back equals the reference after every round.
void run_random(unsigned seed, int rounds) {
  std::mt19937 rng(seed);
  auto pick = [&](seq_t n) { return 1 + static_cast<seq_t>(rng() % n); };
  constexpr seq_t n = 40;
  db_state db;
  reference ref;
  for (int round = 0; round < rounds; ++round) {
    struct op {
      int kind;
      seq_t a, b;
      std::vector<seq_t> seqs;
    };
    std::vector<op> ops;
    const int k = 1 + static_cast<int>(rng() % 8);
    bool retries_dead = false;
    for (int i = 0; i < k; ++i) {
      const int roll = static_cast<int>(rng() % 100);
      op o{};
      if (roll < 40) {
        o.kind = 0;  // done
        o.a = pick(n);
        o.b = rng() % 3 == 0 ? std::min<seq_t>(n, o.a + rng() % 5) : 0;
      } else if (roll < 60) {
        o.kind = 1, o.a = pick(n);  // retry
      } else if (roll < 75) {
        o.kind = 2, o.a = pick(n);  // dead
      } else if (roll < 83) {
        o.kind = 3;  // retry dead letters
        if (rng() % 2) o.seqs = {pick(n), pick(n)};
        retries_dead = true;
      } else if (roll < 89) {
        o.kind = 4;  // drop dead letters
        if (rng() % 2) o.seqs = {pick(n)};
      } else if (roll < 93) {
        o.kind = 5, o.a = pick(n);  // replay
      } else if (roll < 95) {
        o.kind = 6;  // forget
      } else if (roll < 98) {
        o.kind = 7, o.a = pick(n);  // start
      } else {
        o.kind = 8;  // circuit
      }
      ops.push_back(o);
    }
    snapshot s;
    s.stored = db.stored;
    for (auto [f, l] : db.ranges) s.ranges.push_back({f, l});
    s.has_retries = !db.retries.empty();
    s.has_dead = !db.dead.empty();
    if (retries_dead) {
      s.dead_ids.emplace();
      for (auto& [seq, d] : db.dead) (*s.dead_ids)[seq] = d.delivery_id;
    }
    outlet_model m{std::move(s)};
    const store_time now = t0 + std::chrono::seconds(round);
    for (const op& o : ops) {
      const std::string id = "m" + std::to_string(o.a) + "." + std::to_string(round);
      switch (o.kind) {
        case 0:
          m.done(o.a, o.b);
          ref.done(o.a, o.b == 0 ? o.a : o.b);
          break;
        case 1: {
          retry_entry e{o.a, static_cast<std::uint32_t>(round), now + 5s, id};
          const std::string err = rng() % 2 ? "HTTP 503 r" + std::to_string(round) : "";
          m.retry(e, err, now);
          ref.retry(e, err, now);
          break;
        }
        case 2: {
          dead_letter d{o.a, 400, "bad " + std::to_string(round), 3, now, id};
          m.dead(d);
          ref.kill(d);
          break;
        }
        case 3:
          m.retry_dead(o.seqs, now);
          ref.retry_dead(o.seqs, now);
          break;
        case 4:
          m.drop_dead(o.seqs);
          ref.drop_dead(o.seqs);
          break;
        case 5:
          m.replay(o.a);
          ref.replay(o.a);
          break;
        case 6:
          m.forget();
          ref.forget();
          break;
        case 7:
          m.start(o.a);
          if (!ref.exists) {
            ref.exists = true;
            ref.r.cursor = o.a;
          }
          break;
        case 8: {
          circuit_state c{circuit_mode::open, static_cast<std::uint32_t>(round), now, now + 30s};
          m.set_circuit(c);
          ref.r.circuit = c;
          ref.exists = true;
          break;
        }
      }
    }
    apply_diff(db, m.diff());
    expect_same(db, ref, round);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(ProgressModel, RandomRoundsMatchAReferenceHoldingEveryRow) {
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_random(seed, 400);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace syndic::engine::progress
