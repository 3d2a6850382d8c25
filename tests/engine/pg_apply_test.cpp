// The PostgreSQL applier (engine/src/store/pg_apply.cpp) on its own, inside transactions run
// here (not through the store's writer), on the test binary's PostgreSQL (pg_test_cluster):
// random rounds of every write compared with the SQLite store, which is the reference for
// the semantics; the number of statements a round costs; text PostgreSQL cannot hold.

#include "pg_test_cluster.hpp"
#include "store/pg_apply.hpp"
#include "store/pg_schema.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

namespace syndic::engine {
namespace {

using namespace std::chrono_literals;
using store_test::manual_clock;
using store_test::temp_dir;

// A schema of its own on the binary's cluster, migrated, with a connection to it.
struct pg_schema_fixture {
  std::unique_ptr<pg::connection> db;
  std::string schema;
  std::string skip;  // why the test cannot run (PostgreSQL not installed)
  std::string error;

  pg_schema_fixture() {
    std::string why;
    bool not_installed = false;
    pg_test::cluster* c = pg_test::cluster::shared(why, not_installed);
    if (!c) {
      (not_installed ? skip : error) = why;
      return;
    }
    schema = c->new_schema();
    auto opened = pg::connection::open(c->url(), 5s);
    if (!opened.ok()) {
      error = opened.status.message;
      return;
    }
    db = std::move(opened.value);
    migration_report report;
    if (auto s = pg::migrate(*db, schema, pg::newest_schema_version(), report); !s.ok()) error = s.message;
  }
};

#define SYNDIC_PG_SCHEMA(f)                 \
  pg_schema_fixture f;                      \
  if (!f.skip.empty()) GTEST_SKIP() << f.skip; \
  ASSERT_TRUE(f.error.empty()) << f.error

// One data transaction as the writer runs it: every write queued, flushed, committed.
store_status run_round(pg::connection& db, pg::applier& a, const std::vector<std::vector<write_op>>& writes,
                       std::vector<store_status>& results) {
  results.assign(writes.size(), {});
  if (auto s = db.exec("BEGIN"); !s.ok()) return s;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (auto s = a.ops(writes[i], results[i]); !s.ok()) {
      db.exec("ROLLBACK");
      a.reset();
      return s;
    }
  }
  store_status s = a.flush();
  if (s.ok()) s = db.exec("COMMIT");
  if (!s.ok()) db.exec("ROLLBACK");
  a.reset();
  return s;
}

std::string describe(const progress_summary& p) {
  return p.outlet + " cursor " + std::to_string(p.cursor) + " done " + std::to_string(p.done_above) + " retries " +
         std::to_string(p.retries) + " dead " + std::to_string(p.dead_letters) + " circuit " +
         std::string(to_string(p.circuit.mode)) + "/" + std::to_string(p.circuit.failures) + "/" +
         std::to_string(p.circuit.since.time_since_epoch().count()) + "/" +
         std::to_string(p.circuit.probe_at.time_since_epoch().count()) + " error '" + p.last_error + "' at " +
         std::to_string(p.last_error_at.time_since_epoch().count());
}

std::string describe(const std::vector<retry_entry>& v) {
  std::string s;
  for (const auto& r : v)
    s += std::to_string(r.seq) + ":" + std::to_string(r.attempts) + ":" +
         std::to_string(r.next_attempt.time_since_epoch().count()) + ":" + r.delivery_id + " ";
  return s;
}

std::string describe(const std::vector<dead_letter>& v) {
  std::string s;
  for (const auto& d : v)
    s += std::to_string(d.seq) + ":" + std::to_string(d.status) + ":" + d.error + ":" + std::to_string(d.attempts) +
         ":" + std::to_string(d.at.time_since_epoch().count()) + ":" + d.delivery_id + " ";
  return s;
}

// Every row the reads can see, as text, from the SQLite store.
std::string dump(store& db, const std::vector<std::string>& outlets) {
  std::string s;
  for (const auto& o : outlets) {
    auto p = db.progress(o);
    s += p.value ? describe(*p.value) : o + " none";
    s += "\n ranges ";
    for (const auto& r : db.done_above(o, 0, 100000).value) s += std::to_string(r.first) + ".." + std::to_string(r.last) + " ";
    s += "\n retries " + describe(db.retries(o, 0, 100000).value);
    s += "\n dead " + describe(db.dead_letters(o, 0, 100000).value) + "\n";
  }
  for (const auto& p : db.all_progress().value) s += "all " + describe(p) + "\n";
  for (const char* ns : {"n1", "n2"}) {
    for (const auto& e : db.kv_list(ns, "", 1000).value)
      s += "kv " + e.ns + "/" + e.key + "=" + e.value + "@" + std::to_string(e.updated.time_since_epoch().count()) + "\n";
  }
  for (const auto& o : db.outlets().value)
    s += "outlet " + o.id + "=" + o.config + "@" + std::to_string(o.updated.time_since_epoch().count()) + "\n";
  for (const auto& x : db.subscriptions("").value)
    s += "sub " + x.topic + " " + x.callback + " " + x.secret + " " +
         std::to_string(x.lease_expiry.time_since_epoch().count()) + " " +
         std::to_string(x.created.time_since_epoch().count()) + "\n";
  return s;
}

// A stored time (microseconds) as the API's time counts it.
std::string ns_of(std::int64_t us) { return std::to_string(pg::from_micros(us).time_since_epoch().count()); }

// The same from PostgreSQL: the applier's reads, and plain queries for the other tables.
std::string dump(pg::connection& db, const std::string& schema, const std::vector<std::string>& outlets) {
  std::string s;
  const std::string S = pg::ident(schema);
  for (const auto& o : outlets) {
    auto p = pg::read_progress(db, schema, o);
    EXPECT_TRUE(p.ok()) << p.status.message;
    s += p.value ? describe(*p.value) : o + " none";
    s += "\n ranges ";
    for (const auto& r : pg::read_done_above(db, schema, o, 0, 100000).value)
      s += std::to_string(r.first) + ".." + std::to_string(r.last) + " ";
    s += "\n retries " + describe(pg::read_retries(db, schema, o, 0, 100000).value);
    s += "\n dead " + describe(pg::read_dead_letters(db, schema, o, 0, 100000).value) + "\n";
  }
  auto all = pg::read_all_progress(db, schema);
  EXPECT_TRUE(all.ok()) << all.status.message;
  for (const auto& p : all.value) s += "all " + describe(p) + "\n";
  auto kv = db.query("SELECT ns, key, value, updated FROM " + S + ".kv ORDER BY ns, key", {});
  EXPECT_TRUE(kv.ok()) << kv.status.message;
  for (int i = 0; i < kv.value.rows(); ++i)
    s += "kv " + std::string(kv.value.text(i, 0)) + "/" + std::string(kv.value.text(i, 1)) + "=" +
         kv.value.bytea(i, 2) + "@" + ns_of(kv.value.int64(i, 3)) + "\n";
  auto ol = db.query("SELECT id, config, updated FROM " + S + ".outlets ORDER BY id", {});
  EXPECT_TRUE(ol.ok()) << ol.status.message;
  for (int i = 0; i < ol.value.rows(); ++i)
    s += "outlet " + std::string(ol.value.text(i, 0)) + "=" + ol.value.bytea(i, 1) + "@" + ns_of(ol.value.int64(i, 2)) + "\n";
  auto subs = db.query("SELECT topic, callback, secret, lease_expiry, created FROM " + S +
                           ".subscriptions ORDER BY topic, callback",
                       {});
  EXPECT_TRUE(subs.ok()) << subs.status.message;
  for (int i = 0; i < subs.value.rows(); ++i)
    s += "sub " + std::string(subs.value.text(i, 0)) + " " + std::string(subs.value.text(i, 1)) + " " +
         std::string(subs.value.text(i, 2)) + " " + ns_of(subs.value.int64(i, 3)) + " " +
         ns_of(subs.value.int64(i, 4)) + "\n";
  return s;
}

// store_time with whole microseconds (what both stores keep).
store_time at_us(std::int64_t us) { return store_time(std::chrono::microseconds(us)); }

write_op random_op(std::mt19937& rng, const std::vector<std::string>& outlets, int round) {
  auto pick = [&](seq_t n) { return 1 + static_cast<seq_t>(rng() % n); };
  constexpr seq_t n = 30;
  const std::string& o = outlets[rng() % outlets.size()];
  const std::string id = "m" + std::to_string(round) + "." + std::to_string(rng() % 1000);
  const store_time t = at_us(1'767'225'600'000'000 + round * 1000 + static_cast<std::int64_t>(rng() % 1000));
  switch (rng() % 22) {
    case 0: case 1: case 2: case 3: case 4: {
      const seq_t a = pick(n);
      return mark_done{o, a, rng() % 3 == 0 ? std::min<seq_t>(n, a + rng() % 5) : 0};
    }
    case 5: case 6: case 7:
      return mark_retry{o, {pick(n), static_cast<std::uint32_t>(rng() % 5), t, id},
                        rng() % 2 ? "HTTP 503 " + std::to_string(round) : ""};
    case 8: case 9:
      return mark_dead{o, {pick(n), 400 + static_cast<int>(rng() % 100), "bad " + id, 3, t, id}};
    case 10: {
      std::vector<seq_t> seqs;
      if (rng() % 2) seqs = {pick(n), pick(n)};
      return retry_dead_letters{o, seqs, t};
    }
    case 11: {
      std::vector<seq_t> seqs;
      if (rng() % 2) seqs = {pick(n)};
      return drop_dead_letters{o, seqs};
    }
    case 12: return replay_outlet{o, pick(n)};
    case 13: return rng() % 3 == 0 ? write_op{forget_outlet{o}} : write_op{start_outlet{o, pick(5)}};
    case 14: return set_circuit{o, {circuit_mode::half_open, static_cast<std::uint32_t>(rng() % 9), t, t + 5s}};
    case 15: return kv_put{rng() % 2 ? "n1" : "n2", "k" + std::to_string(rng() % 4), "v" + id};
    case 16: return rng() % 2 ? write_op{kv_erase{"n1", "k" + std::to_string(rng() % 4)}} : write_op{kv_erase_namespace{"n2"}};
    case 17: return save_outlet{{"out" + std::to_string(rng() % 3), std::string("cfg\0", 4) + id, {}}};
    case 18: return delete_outlet{"out" + std::to_string(rng() % 3)};
    case 19: return put_subscription{{"topic" + std::to_string(rng() % 2), "cb" + std::to_string(rng() % 3), "s" + id,
                                      t + std::chrono::seconds(rng() % 20), rng() % 2 ? store_time{} : t}};
    case 20: return remove_subscription{"topic" + std::to_string(rng() % 2), "cb" + std::to_string(rng() % 3)};
    default: return expire_subscriptions{t + std::chrono::seconds(rng() % 20)};
  }
}

// Random rounds of random writes, on PostgreSQL through the applier and on SQLite through its
// store: after every round, every read gives the same on both.
TEST(PgApplier, RandomRoundsMatchTheSqliteStore) {
  SYNDIC_PG_SCHEMA(f);
  manual_clock clock;
  temp_dir dir;
  sqlite_options so;
  so.clock = clock.fn();
  so.synchronous = sqlite_sync::normal;  // the reference: its durability is not under test
  so.commit_interval = 0ms;
  auto opened = open_sqlite_store(dir.path, so);
  ASSERT_TRUE(opened.ok()) << opened.status.message;
  store& lite = *opened.value;
  pg::applier a(*f.db, f.schema, clock.fn());
  const std::vector<std::string> outlets = {"a", "b", "c"};
  std::mt19937 rng(2026);
  for (int round = 0; round < 150; ++round) {
    std::vector<std::vector<write_op>> writes(1 + rng() % 3);
    for (auto& w : writes) {
      const std::size_t k = 1 + rng() % 6;
      for (std::size_t i = 0; i < k; ++i) w.push_back(random_op(rng, outlets, round));
    }
    std::vector<store_status> results;
    ASSERT_TRUE(run_round(*f.db, a, writes, results).ok()) << "round " << round;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].message;
      ASSERT_TRUE(lite.write_sync(writes[i]).ok());
    }
    ASSERT_EQ(dump(*f.db, f.schema, outlets), dump(lite, outlets)) << "after round " << round;
    clock.advance(1ms);
  }
}

// 1,000 done marks over 500 outlets (the fan-out's usual round): a few statements, whatever
// the number of ops.
TEST(PgApplier, AThousandMarksOverFiveHundredOutletsCostAFewStatements) {
  SYNDIC_PG_SCHEMA(f);
  pg::applier a(*f.db, f.schema, {});
  std::vector<store_status> results;
  std::vector<write_op> start;
  for (int k = 0; k < 500; ++k) start.push_back(start_outlet{"outlet-" + std::to_string(k), 0});
  ASSERT_TRUE(run_round(*f.db, a, {start}, results).ok());
  std::vector<write_op> marks;
  for (seq_t s = 1; s <= 2; ++s)
    for (int k = 0; k < 500; ++k) marks.push_back(mark_done{"outlet-" + std::to_string(k), s});
  std::shuffle(marks.begin(), marks.end(), std::mt19937(7));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_round(*f.db, a, {marks}, results).ok());
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LE(a.last_flush_statements(), 3u);  // load rows, load ranges, write rows
  RecordProperty("statements", static_cast<int>(a.last_flush_statements()));
  // For the record (not asserted): the round's time, COMMIT included.
  std::cout << "1,000 mark_done over 500 outlets: " << a.last_flush_statements() << " statements, "
            << took.count() / 1000.0 << " ms with BEGIN and COMMIT\n";
  auto all = pg::read_all_progress(*f.db, f.schema);
  ASSERT_TRUE(all.ok()) << all.status.message;
  ASSERT_EQ(all.value.size(), 500u);
  for (const auto& p : all.value) EXPECT_EQ(p.cursor, 2u) << p.outlet;

  // Out of order, with retries and dead letters about: still a handful.
  marks.clear();
  for (int k = 0; k < 500; ++k) {
    const std::string o = "outlet-" + std::to_string(k);
    marks.push_back(mark_retry{o, {3, 1, {}, "d3"}, "HTTP 503"});
    marks.push_back(mark_done{o, 5});
  }
  ASSERT_TRUE(run_round(*f.db, a, {marks}, results).ok());
  std::cout << "500 retries and 500 done above the cursor: " << a.last_flush_statements() << " statements\n";
  EXPECT_LE(a.last_flush_statements(), 5u);
  marks.clear();
  for (int k = 0; k < 500; ++k) {
    const std::string o = "outlet-" + std::to_string(k);
    marks.push_back(mark_dead{o, {3, 500, "gave up", 2, {}, "d3"}});
    marks.push_back(mark_done{o, 4});
  }
  ASSERT_TRUE(run_round(*f.db, a, {marks}, results).ok());
  std::cout << "500 dead letters and 500 done closing the gaps: " << a.last_flush_statements() << " statements\n";
  EXPECT_LE(a.last_flush_statements(), 7u);
  for (const auto& p : pg::read_all_progress(*f.db, f.schema).value) {
    EXPECT_EQ(p.cursor, 5u) << p.outlet;
    EXPECT_EQ(p.retries, 0u);
    EXPECT_EQ(p.dead_letters, 1u);
    EXPECT_EQ(p.done_above, 0u);
  }
}

// An HTTP answer's error may hold NUL and bytes that are not UTF-8: PostgreSQL text holds
// neither, so they are repaired (U+FFFD) rather than failing the round (and every write in it).
TEST(PgApplier, ErrorsThatAreNotUtf8AreRepairedNotRefused) {
  SYNDIC_PG_SCHEMA(f);
  pg::applier a(*f.db, f.schema, {});
  const std::string bad = std::string("HTTP 502: \xff\xfe bad\0gateway", 24);
  std::vector<store_status> results;
  ASSERT_TRUE(run_round(*f.db, a,
                        {{start_outlet{"o", 0}, mark_retry{"o", {1, 1, {}, "d\xc3"}, bad},
                          mark_dead{"o", {2, 502, bad, 1, {}, "d2"}}}},
                        results)
                  .ok());
  ASSERT_TRUE(results[0].ok()) << results[0].message;
  auto p = pg::read_progress(*f.db, f.schema, "o");
  ASSERT_TRUE(p.ok() && p.value) << p.status.message;
  EXPECT_EQ(p.value->last_error, "HTTP 502: \xef\xbf\xbd\xef\xbf\xbd bad\xef\xbf\xbdgateway");
  auto d = pg::read_dead_letters(*f.db, f.schema, "o", 0, 10);
  ASSERT_EQ(d.value.size(), 1u);
  EXPECT_EQ(d.value[0].error, p.value->last_error);
  auto r = pg::read_retries(*f.db, f.schema, "o", 0, 10);
  ASSERT_EQ(r.value.size(), 1u);
  EXPECT_EQ(r.value[0].delivery_id, "d\xef\xbf\xbd");
}

// A write refused on its own queues nothing; the round's other writes go through.
TEST(PgApplier, AnInvalidWriteIsRefusedAloneAndQueuesNothing) {
  SYNDIC_PG_SCHEMA(f);
  pg::applier a(*f.db, f.schema, {});
  std::vector<store_status> results;
  ASSERT_TRUE(run_round(*f.db, a, {{start_outlet{"o", 0}, mark_done{"o", 1}}, {mark_done{"o", 2}, mark_done{"", 3}},
                                   {mark_done{"o", 0}}},
                        results)
                  .ok());
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code, store_errc::invalid_argument);
  EXPECT_NE(results[1].message.find("empty outlet id"), std::string::npos) << results[1].message;
  EXPECT_EQ(results[2].code, store_errc::invalid_argument);
  EXPECT_EQ(pg::read_progress(*f.db, f.schema, "o").value->cursor, 1u);
}

// Two writers (two instances, or an admin write from another one) on the same outlets at once:
// each round loads the rows, changes them in memory and writes them back, so without the row
// locks taken by the load one would write back what it read before the other's commit and
// lose the other's marks. Odd seqs by one writer, even by the other, many small rounds each.
TEST(PgApplier, TwoWritersOnTheSameOutletsLoseNoMark) {
  SYNDIC_PG_SCHEMA(f);
  std::string why;
  bool not_installed = false;
  pg_test::cluster* c = pg_test::cluster::shared(why, not_installed);
  ASSERT_NE(c, nullptr) << why;
  auto other = pg::connection::open(c->url(), 5s);
  ASSERT_TRUE(other.ok()) << other.status.message;
  pg::applier a(*f.db, f.schema, {});
  pg::applier b(*other.value, f.schema, {});
  std::vector<store_status> results;
  ASSERT_TRUE(run_round(*f.db, a, {{start_outlet{"x", 0}, start_outlet{"y", 0}}}, results).ok());
  constexpr seq_t n = 200;
  auto writer = [&](pg::connection& db, pg::applier& ap, seq_t parity, store_status& out) {
    std::vector<store_status> res;
    for (seq_t s = 1 + parity; s <= n; s += 4) {
      // Two seqs per round; "x" and "y" in opposite orders in the two writers' ops.
      std::vector<write_op> ops{mark_done{"x", s}, mark_done{"y", s}, mark_done{"x", s + 2}, mark_done{"y", s + 2}};
      if (parity) std::reverse(ops.begin(), ops.end());
      store_status st;
      for (int attempt = 0; attempt < 20; ++attempt) {  // a deadlock would be retried, as the writer does
        st = run_round(db, ap, {ops}, res);
        if (st.ok() || !db.transient()) break;
      }
      if (!st.ok()) {
        out = st;
        return;
      }
    }
  };
  store_status sa, sb;
  std::thread ta([&] { writer(*f.db, a, 0, sa); });
  std::thread tb([&] { writer(*other.value, b, 1, sb); });
  ta.join();
  tb.join();
  ASSERT_TRUE(sa.ok()) << sa.message;
  ASSERT_TRUE(sb.ok()) << sb.message;
  for (const char* o : {"x", "y"}) {
    auto p = pg::read_progress(*f.db, f.schema, o);
    ASSERT_TRUE(p.ok() && p.value) << p.status.message;
    EXPECT_EQ(p.value->cursor, n) << o;  // 1, 3 .. 199 and 2, 4 .. 200
    EXPECT_EQ(p.value->done_above, 0u) << o;
  }
}

// The same for outlets that have no progress row yet, so nothing to lock: two writers marking
// the same new outlets at once. Without more, the second would write back a row (cursor 0,
// a done range) made without seeing the first's, and lose the first's mark.
TEST(PgApplier, TwoWritersCreatingTheSameOutletsLoseNoMark) {
  SYNDIC_PG_SCHEMA(f);
  std::string why;
  bool not_installed = false;
  pg_test::cluster* c = pg_test::cluster::shared(why, not_installed);
  ASSERT_NE(c, nullptr) << why;
  auto other = pg::connection::open(c->url(), 5s);
  ASSERT_TRUE(other.ok()) << other.status.message;
  pg::applier a(*f.db, f.schema, {});
  pg::applier b(*other.value, f.schema, {});
  constexpr int rounds = 60;
  auto writer = [&](pg::connection& db, pg::applier& ap, seq_t seq, store_status& out) {
    std::vector<store_status> res;
    for (int k = 0; k < rounds; ++k) {
      std::vector<write_op> ops{mark_done{"new-" + std::to_string(k), seq}};
      store_status st;
      for (int attempt = 0; attempt < 20; ++attempt) {
        st = run_round(db, ap, {ops}, res);
        if (st.ok() || !db.transient()) break;
      }
      if (!st.ok()) {
        out = st;
        return;
      }
    }
  };
  store_status sa, sb;
  std::thread ta([&] { writer(*f.db, a, 1, sa); });
  std::thread tb([&] { writer(*other.value, b, 2, sb); });
  ta.join();
  tb.join();
  ASSERT_TRUE(sa.ok()) << sa.message;
  ASSERT_TRUE(sb.ok()) << sb.message;
  int lost = 0;
  for (int k = 0; k < rounds; ++k) {
    auto p = pg::read_progress(*f.db, f.schema, "new-" + std::to_string(k));
    ASSERT_TRUE(p.ok() && p.value) << p.status.message;
    if (p.value->cursor != 2u) ++lost;
  }
  EXPECT_EQ(lost, 0) << "outlets whose cursor is not 2, of " << rounds;
}

}  // namespace
}  // namespace syndic::engine
