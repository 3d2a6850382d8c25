// What only the PostgreSQL store has to show, on the binary's real test server
// (pg_test_cluster.hpp): several store objects on one schema (several instances on one
// database) appending at once while a tailer reads by seq and never skips one; a server
// killed (pg_ctl stop -m immediate) and started again in the middle of appends, losing
// nothing acknowledged; fences and leases across store objects; opening errors, concurrent
// schema creation and migrations. The tests shared with SQLite are in store_test.cpp,
// store_progress_test.cpp, store_lease_test.cpp and store_open_test.cpp (their /postgres
// instances).

#include "store_test_support.hpp"

#include "store/pg_db.hpp"
#include "store/pg_schema.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

struct StorePg : ::testing::Test {
  pg_test::cluster* pg = nullptr;
  std::string schema;

  void SetUp() override { use_pg_cluster(pg, schema); }

  postgres_options options(std::function<store_time()> clock = {}) const {
    postgres_options o;
    o.schema = schema;
    o.clock = std::move(clock);
    return o;
  }

  // Throws (gtest reports it) when the store cannot be opened.
  std::unique_ptr<store> open(postgres_options o) const {
    auto r = open_postgres_store(pg->url(), std::move(o));
    if (!r.ok() || !r.value) throw std::runtime_error("cannot open the PostgreSQL store: " + r.status.message);
    return std::move(r.value);
  }
  std::unique_ptr<store> open() const { return open(options()); }

  // The whole log, seq -> item id.
  static std::map<seq_t, std::string> whole_log(store& db) {
    std::map<seq_t, std::string> all;
    seq_t from = 1;
    for (int pages = 0; pages < 10'000; ++pages) {
      auto r = db.read(from, 1000);
      EXPECT_TRUE(r.ok()) << r.status.message;
      if (!r.ok() || r.value.empty()) break;
      for (const auto& rec : r.value) all[rec.seq] = rec.item_id;
      from = r.value.back().seq + 1;
    }
    return all;
  }
};

// The fixture itself: the server takes connections, keeps a committed row across a crash
// (stop -m immediate) and its recovery, refuses connections while stopped, and starts again on
// the same port.
TEST_F(StorePg, TheTestClusterStartsRestartsAndStops) {
  std::string out;
  ASSERT_EQ(pg->psql("SELECT 40 + 2", &out), 0) << out;
  EXPECT_EQ(out, "42\n");
  EXPECT_LT(pg->port(), 32768);
  EXPECT_EQ(pg->url(), "postgres://postgres@127.0.0.1:" + std::to_string(pg->port()) + "/postgres");
  ASSERT_EQ(pg->psql("SHOW fsync; SHOW synchronous_commit", &out), 0) << out;
  EXPECT_EQ(out, "on\non\n");
  ASSERT_EQ(pg->psql("CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".t (x int); INSERT INTO " + schema +
                         ".t VALUES (7)",
                     &out),
            0)
      << out;
  std::string why;
  ASSERT_TRUE(pg->restart(&why)) << why;
  ASSERT_EQ(pg->psql("SELECT x FROM " + schema + ".t", &out), 0) << out;
  EXPECT_EQ(out, "7\n");
  ASSERT_TRUE(pg->stop(false, &why)) << why;
  EXPECT_FALSE(pg->running());
  EXPECT_NE(pg->psql("SELECT 1", &out), 0) << out;
  ASSERT_TRUE(pg->start(&why)) << why;
  ASSERT_EQ(pg->psql("SELECT x FROM " + schema + ".t", &out), 0) << out;
  EXPECT_EQ(out, "7\n");
}

// Sequence visibility (issue 11): three store objects append at once (three instances), while
// a fourth tails the log by seq as a fan-out does, always asking for the records after the
// last one it saw. A seq that commits after a higher one was already readable would be
// skipped by the tailer for good: at the end, the tailer must have seen every seq in the log,
// and every acknowledged append must be there with its own items.
TEST_F(StorePg, ConcurrentAppendersNeverLetATailerSkipASeq) {
  constexpr int appenders = 3;
  constexpr std::size_t appends_each = 150;
  std::vector<std::unique_ptr<store>> writers;
  for (int k = 0; k < appenders; ++k) writers.push_back(open());
  auto tail_store = open();

  std::mutex m;
  std::map<std::string, seq_t> acked;  // item id -> seq
  std::atomic<int> failures{0};
  std::atomic<int> appenders_done{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < appenders; ++k) {
    threads.emplace_back([&, k] {
      for (std::size_t j = 0; j < appends_each; ++j) {
        append_request req;
        const std::size_t n = 1 + j % 3;  // 1-3 entries per append
        for (std::size_t e = 0; e < n; ++e) req.entries.push_back(entry(100'000 * (k + 1) + j * 10 + e));
        std::vector<std::string> ids;
        for (const auto& e : req.entries) ids.push_back(e.item_id);
        // Mostly queued (group commits of several appends), every tenth waited for.
        auto done = [&, ids](store_result<appended> r) {
          if (!r.ok() || r.value.seqs.size() != ids.size()) {
            ++failures;
            return;
          }
          std::lock_guard lk(m);
          for (std::size_t e = 0; e < ids.size(); ++e) acked[ids[e]] = r.value.seqs[e];
        };
        if (j % 10 == 9) {
          done(writers[static_cast<std::size_t>(k)]->append_sync(std::move(req)));
        } else {
          writers[static_cast<std::size_t>(k)]->append(std::move(req), done);
        }
      }
      EXPECT_TRUE(writers[static_cast<std::size_t>(k)]->flush().ok());
      ++appenders_done;
    });
  }

  // The tailer: reads from `next`, moves past what it got; never goes back.
  std::vector<seq_t> seen;
  int tail_errors = 0;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  seq_t next = 1;
  for (;;) {
    const bool writers_done = appenders_done.load() == appenders;  // read before the last page
    auto r = tail_store->read(next, 64);
    if (!r.ok()) {
      ++tail_errors;
    } else {
      for (const auto& rec : r.value) seen.push_back(rec.seq);
      if (!r.value.empty()) next = r.value.back().seq + 1;
    }
    if (writers_done && r.ok() && r.value.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "the tailer did not reach the end of the log in 120 s (at seq " << next << ")";
      break;
    }
    if (r.ok() && r.value.empty()) std::this_thread::sleep_for(1ms);
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(tail_errors, 0);
  const auto log = whole_log(*tail_store);
  std::size_t expected_items = 0;
  for (std::size_t j = 0; j < appends_each; ++j) expected_items += 1 + j % 3;
  EXPECT_EQ(acked.size(), appenders * expected_items);
  EXPECT_EQ(log.size(), acked.size());
  // Every acknowledged item is at its seq.
  for (const auto& [id, seq] : acked) {
    auto it = log.find(seq);
    ASSERT_NE(it, log.end()) << id << " acknowledged at seq " << seq << " is not in the log";
    EXPECT_EQ(it->second, id) << "seq " << seq;
  }
  // The tailer saw every seq of the log, each once, ascending: none was skipped.
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  std::vector<seq_t> all;
  for (const auto& [seq, id] : log) all.push_back(seq);
  EXPECT_EQ(seen.size(), all.size());
  std::vector<seq_t> skipped;
  std::set_difference(all.begin(), all.end(), seen.begin(), seen.end(), std::back_inserter(skipped));
  EXPECT_TRUE(skipped.empty()) << skipped.size() << " seqs skipped by the tailer, the first " << skipped.at(0);
  // And head() agrees with the log on every store object.
  for (auto& w : writers) EXPECT_EQ(w->head().value, all.empty() ? 0 : all.back());
}

// The server is killed and started again while two store objects append: first with pg_ctl
// stop -m immediate (no checkpoint, every connection cut), then with SIGKILL to every server
// process. Writes wait for it rather than fail; every acknowledged append is in the log
// afterwards, exactly once (an ambiguous COMMIT is not retried into a second copy); and the
// stores go on working, reads included.
TEST_F(StorePg, ServerKilledMidAppendsLosesNothingAcknowledged) {
  std::vector<std::unique_ptr<store>> stores;
  stores.push_back(open());
  stores.push_back(open());
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, seq_t> acked;
  std::vector<std::string> failed;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < stores.size(); ++k) {
    threads.emplace_back([&, k] {
      for (std::size_t j = 0; j < 100'000 && !stop; ++j) {
        append_request req;
        req.entries.push_back(entry(1'000'000 * (k + 1) + j));
        const std::string id = req.entries[0].item_id;
        // Bounded in flight: at most a few appends of each store wait for the server.
        stores[k]->append(std::move(req), [&, id](store_result<appended> r) {
          std::lock_guard lk(m);
          if (r.ok() && r.value.seqs.size() == 1) {
            acked[id] = r.value.seqs[0];
          } else {
            failed.push_back(id + ": " + std::string(to_string(r.status.code)) + " " + r.status.message);
          }
          cv.notify_all();
        });
        if (j % 20 == 19) stores[k]->flush();
      }
    });
  }
  auto wait_acked = [&](std::size_t n) {
    std::unique_lock lk(m);
    return cv.wait_for(lk, 60s, [&] { return acked.size() >= n; });
  };
  ASSERT_TRUE(wait_acked(200)) << "appends did not start";
  bool resumed = true;
  for (const bool sigkill : {false, true}) {
    std::string why;
    if (sigkill) {
      ASSERT_TRUE(pg->kill9(&why)) << why;
      ASSERT_TRUE(pg->start(&why)) << why;
    } else {
      ASSERT_TRUE(pg->restart(&why)) << why;
    }
    std::size_t at_restart = 0;
    {
      std::lock_guard lk(m);
      at_restart = acked.size();
    }
    resumed = wait_acked(at_restart + 300);
    if (!resumed) {
      ADD_FAILURE() << "appends did not resume within 60 s of the server's restart"
                    << (sigkill ? " after SIGKILL" : " after stop -m immediate") << "; server log:\n"
                    << pg->log_tail();
      break;
    }
  }
  stop = true;
  for (auto& t : threads) t.join();
  for (auto& s : stores) EXPECT_TRUE(s->flush().ok());
  ASSERT_TRUE(resumed);

  std::lock_guard lk(m);
  EXPECT_TRUE(failed.empty()) << failed.size() << " appends failed, the first: " << failed.at(0);
  auto log = whole_log(*stores[0]);
  std::map<std::string, int> copies;
  for (const auto& [seq, id] : log) ++copies[id];
  for (const auto& [id, seq] : acked) {
    auto it = log.find(seq);
    ASSERT_NE(it, log.end()) << id << " acknowledged at seq " << seq << " is lost";
    EXPECT_EQ(it->second, id);
  }
  for (const auto& [id, n] : copies) EXPECT_EQ(n, 1) << id << " is in the log " << n << " times";
  // Every seq up to the head is there (one appender at a time: dense seqs).
  const seq_t head = stores[1]->head().value;
  EXPECT_EQ(log.size(), head);
  EXPECT_EQ(log.empty() ? 0 : log.rbegin()->first, head);
  // Still working: a write, a read, a lease, on both.
  for (auto& s : stores) {
    auto a = s->append_sync({{entry(9)}, ""});
    ASSERT_TRUE(a.ok()) << a.status.message;
    EXPECT_TRUE(s->get(a.value.seqs.at(0)).value.has_value());
    EXPECT_TRUE(s->write_sync({kv_put{"after", "restart", "yes"}}).ok());
  }
}

// A longer outage (the server down for seconds, past the writer's longest reconnect backoff):
// writes queued meanwhile wait and then commit, none fails; a read meanwhile fails at once
// with io_error naming the server (it does not wait for it), and reads work again after.
TEST_F(StorePg, AnOutageMakesWritesWaitAndReadsFail) {
  auto o = options();
  o.connect_timeout = 2s;
  auto db = open(o);
  ASSERT_TRUE(db->append_sync({{entry(0)}, ""}).ok());
  std::string why;
  ASSERT_TRUE(pg->kill9(&why)) << why;
  std::mutex m;
  std::vector<std::string> failed;
  std::atomic<int> ok{0};
  for (std::size_t i = 1; i <= 50; ++i) {
    db->append({{entry(i)}, ""}, [&](store_result<appended> r) {
      if (r.ok()) {
        ++ok;
      } else {
        std::lock_guard lk(m);
        failed.push_back(r.status.message);
      }
    });
  }
  db->write({kv_put{"during", "outage", "v"}}, [&](store_status s) {
    if (s.ok()) {
      ++ok;
    } else {
      std::lock_guard lk(m);
      failed.push_back(s.message);
    }
  });
  auto h = db->head();
  EXPECT_FALSE(h.ok());
  EXPECT_EQ(h.status.code, store_errc::io_error) << h.status.message;
  EXPECT_NE(h.status.message.find("127.0.0.1:" + std::to_string(pg->port())), std::string::npos)
      << h.status.message;
  std::this_thread::sleep_for(2500ms);  // the outage: longer than the writer's backoff (1 s)
  {
    std::lock_guard lk(m);
    EXPECT_TRUE(failed.empty()) << "a write failed during the outage: " << failed.at(0);
  }
  ASSERT_TRUE(pg->start(&why)) << why;
  EXPECT_TRUE(db->flush().ok());
  EXPECT_EQ(ok.load(), 51);
  std::lock_guard lk(m);
  EXPECT_TRUE(failed.empty()) << failed.size() << " writes failed, the first: " << failed.at(0);
  EXPECT_EQ(db->head().value, 51u);
  EXPECT_EQ(*db->kv_get("during", "outage").value, "v");
}

// Reads on connections the server dropped reconnect: a store idle across a restart answers
// its next reads (each read connection reconnects once).
TEST_F(StorePg, ReadsReconnectAfterARestart) {
  auto db = open();
  ASSERT_TRUE(db->append_sync({{entry(1), entry(2)}, "k"}).ok());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(db->head().value, 2u);  // every pooled connection used
  std::string why;
  ASSERT_TRUE(pg->restart(&why)) << why;
  for (int i = 0; i < 8; ++i) {
    auto h = db->head();
    ASSERT_TRUE(h.ok()) << "read " << i << " after the restart: " << h.status.message;
    EXPECT_EQ(h.value, 2u);
  }
  EXPECT_EQ(db->read(1, 10).value.size(), 2u);
  EXPECT_EQ(db->append_sync({{entry(3)}, ""}).value.seqs.at(0), 3u);
}

// Fencing across two instances: node-a writes progress under its lease; once node-b has taken
// the lease, not one more of node-a's writes commits, however many it had queued. node-a
// writes one kv row per write (under its fence): the rows node-b finds right after its
// takeover are all node-a will ever have.
TEST_F(StorePg, FencedWritesOfAnExOwnerStopAtTheTakeover) {
  manual_clock clock;
  auto a = open(options(clock.fn()));
  auto b = open(options(clock.fn()));
  auto held = a->acquire_lease_sync("partition/007", "node-a", 10s);
  ASSERT_TRUE(held.ok() && held.value) << held.status.message;
  const fence fa{"partition/007", held.value->token};
  ASSERT_TRUE(a->write_sync({start_outlet{"o", 0}}, fa).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> a_ok{0}, a_fenced{0}, a_other{0};
  std::thread writer([&] {
    for (seq_t s = 1; s <= 100'000 && !stop; ++s) {
      a->write({mark_done{"o", s}, kv_put{"a-writes", std::to_string(1'000'000 + s), "x"}}, fa, [&](store_status st) {
        if (st.ok()) {
          ++a_ok;
        } else if (st.code == store_errc::fenced) {
          ++a_fenced;
        } else {
          ++a_other;
        }
      });
      if (s % 50 == 0) a->flush();
    }
    a->flush();
  });
  // Let node-a commit some, then node-b takes over the expired lease.
  for (int i = 0; i < 2000 && a_ok.load() < 100; ++i) std::this_thread::sleep_for(5ms);
  clock.advance(10s);
  auto taken = b->acquire_lease_sync("partition/007", "node-b", 10s);
  ASSERT_TRUE(taken.ok() && taken.value) << taken.status.message;
  EXPECT_GT(taken.value->token, fa.token);
  const auto rows_at_takeover = b->kv_list("a-writes", "", 1'000'000).value.size();
  const seq_t cursor_at_takeover = b->progress("o").value->cursor;
  // node-a keeps writing for a while: every one of those must be refused.
  const int fenced_before = a_fenced.load();
  for (int i = 0; i < 2000 && a_fenced.load() < fenced_before + 200; ++i) std::this_thread::sleep_for(5ms);
  stop = true;
  writer.join();

  EXPECT_EQ(a_other.load(), 0);
  EXPECT_GE(a_fenced.load(), 200) << "node-a's writes after the takeover were not refused";
  EXPECT_GE(rows_at_takeover, 100u);
  EXPECT_EQ(b->kv_list("a-writes", "", 1'000'000).value.size(), rows_at_takeover)
      << "node-a wrote after node-b took its lease";
  EXPECT_EQ(static_cast<std::size_t>(a_ok.load()), rows_at_takeover);  // acknowledged = committed
  EXPECT_EQ(b->progress("o").value->cursor, cursor_at_takeover);
  // node-b's own fenced writes go through; node-a cannot renew.
  ASSERT_TRUE(b->write_sync({mark_done{"o", cursor_at_takeover + 1}}, fence{"partition/007", taken.value->token}).ok());
  EXPECT_EQ(b->progress("o").value->cursor, cursor_at_takeover + 1);
  EXPECT_FALSE(a->renew_lease_sync(*held.value, 10s).value.has_value());
  EXPECT_EQ(a->get_lease("partition/007").value->owner, "node-b");
}

// Instances racing for the same leases: four store objects try to take each of 16 free leases
// at once; every lease ends with exactly one holder, the one its acquirer was told it got, and
// once they have all expired the race again gives each one holder with a greater token.
TEST_F(StorePg, RacingAcquirersGetOneHolderPerLease) {
  manual_clock clock;
  constexpr int instances = 4, names = 16;
  std::vector<std::unique_ptr<store>> stores;
  for (int k = 0; k < instances; ++k) stores.push_back(open(options(clock.fn())));
  std::map<std::string, std::uint64_t> last_token;
  for (int round = 0; round < 2; ++round) {
    std::mutex m;
    std::map<std::string, std::vector<lease>> won;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < instances; ++k) {
      threads.emplace_back([&, k] {
        for (int i = 0; i < names; ++i) {
          // Each instance in its own order, all queued at once (one writer round or several).
          const int n = (i + k * 5) % names;
          stores[static_cast<std::size_t>(k)]->acquire_lease(
              "partition/" + std::to_string(100 + n), "node-" + std::to_string(k), 10s,
              [&](store_result<std::optional<lease>> r) {
                std::lock_guard lk(m);
                if (!r.ok()) ++errors;
                if (r.ok() && r.value) won[r.value->name].push_back(*r.value);
              });
        }
        stores[static_cast<std::size_t>(k)]->flush();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    ASSERT_EQ(won.size(), static_cast<std::size_t>(names)) << "round " << round;
    for (const auto& [name, holders] : won) {
      ASSERT_EQ(holders.size(), 1u) << name << " was given to " << holders.size() << " owners in round " << round;
      auto stored = stores[0]->get_lease(name).value;
      ASSERT_TRUE(stored);
      EXPECT_EQ(stored->owner, holders[0].owner) << name;
      EXPECT_EQ(stored->token, holders[0].token) << name;
      EXPECT_GT(stored->token, last_token[name]) << name;
      last_token[name] = stored->token;
    }
    clock.advance(10s);  // every lease expires: the next round races again
  }
}

// What one instance writes, another reads as soon as the write's completion has run: stored
// outlets, keyed state and subscriptions are how admin changes reach the owning instance.
TEST_F(StorePg, OneStoresWritesAreReadByAnother) {
  auto a = open();
  auto b = open();
  for (int i = 0; i < 20; ++i) {
    const std::string id = "o" + std::to_string(i);
    ASSERT_TRUE(a->write_sync({save_outlet{{id, "config-" + id, {}}}, kv_put{"ns", id, "v" + id},
                               put_subscription{{"topic", "cb-" + id, "", store_clock::now() + 1h, {}}}})
                    .ok());
    auto got = b->outlet(id);
    ASSERT_TRUE(got.ok() && got.value) << id << ": " << got.status.message;
    EXPECT_EQ(got.value->config, "config-" + id);
    EXPECT_EQ(*b->kv_get("ns", id).value, "v" + id);
    EXPECT_EQ(b->subscriptions("topic").value.size(), static_cast<std::size_t>(i + 1));
  }
  ASSERT_TRUE(b->write_sync({delete_outlet{"o3"}}).ok());
  EXPECT_FALSE(a->outlet("o3").value.has_value());
  EXPECT_EQ(a->outlets().value.size(), 19u);
}

// A publisher retrying through another instance: the same idempotency key arrives at two
// store objects at once, many times over. Each key appends once; both answers carry its seqs,
// and exactly one of them is not a duplicate.
TEST_F(StorePg, TheSameIdempotencyKeyAtTwoStoresAppendsOnce) {
  auto a = open();
  auto b = open();
  constexpr int keys = 100;
  std::mutex m;
  std::map<std::string, std::vector<appended>> answers;
  std::atomic<int> errors{0};
  auto publish = [&](store& db, int offset) {
    for (int i = 0; i < keys; ++i) {
      const std::string key = "pub-" + std::to_string(i);
      db.append({{entry(static_cast<std::size_t>(offset + i)), entry(static_cast<std::size_t>(offset + i + 1000))}, key},
                [&, key](store_result<appended> r) {
                  std::lock_guard lk(m);
                  if (!r.ok()) ++errors;
                  answers[key].push_back(r.value);
                });
      if (i % 10 == 9) db.flush();
    }
    db.flush();
  };
  std::thread ta([&] { publish(*a, 0); });
  std::thread tb([&] { publish(*b, 10'000); });
  ta.join();
  tb.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(answers.size(), static_cast<std::size_t>(keys));
  for (const auto& [key, got] : answers) {
    ASSERT_EQ(got.size(), 2u) << key;
    EXPECT_EQ(got[0].seqs, got[1].seqs) << key;
    EXPECT_EQ(got[0].seqs.size(), 2u) << key;
    EXPECT_EQ(int(got[0].duplicate) + int(got[1].duplicate), 1) << key;
    EXPECT_EQ(*a->lookup_idempotency(key).value, got[0].seqs) << key;
  }
  EXPECT_EQ(a->head().value, static_cast<seq_t>(2 * keys));
}

// Three instances at once, each doing everything a fan-out does in every round: renewing its
// own leases, fenced progress writes for its outlets, appends, and reads. Their transactions
// take locks (lease rows, the log's head, progress rows) in one fixed order, so none waits
// for another in a cycle: no write fails (deadlocks would surface as failures or a stall),
// and every cursor ends where its outlet's marks put it.
TEST_F(StorePg, InstancesWritingAtOnceNeitherDeadlockNorFail) {
  manual_clock clock;
  constexpr int instances = 3, rounds = 60, outlets_each = 4;
  std::vector<std::unique_ptr<store>> stores;
  for (int k = 0; k < instances; ++k) stores.push_back(open(options(clock.fn())));
  std::atomic<int> failures{0};
  std::vector<std::string> first_failure(instances);
  std::vector<std::thread> threads;
  for (int k = 0; k < instances; ++k) {
    threads.emplace_back([&, k] {
      store& db = *stores[static_cast<std::size_t>(k)];
      auto note = [&](const store_status& s) {
        if (!s.ok() && failures++ == 0) first_failure[static_cast<std::size_t>(k)] = s.message;
      };
      // Two leases each, taken in opposite orders by neighbours (a cycle, were locks taken
      // in request order).
      std::vector<lease> held;
      for (int j = 0; j < 2; ++j) {
        const int n = (k + (k % 2 ? 1 - j : j)) % instances;
        auto l = db.acquire_lease_sync("partition/" + std::to_string(n) + "/" + std::to_string(k), "node" + std::to_string(k), 60s);
        note(l.status);
        if (l.value) held.push_back(*l.value);
      }
      std::vector<write_op> starts;
      for (int o = 0; o < outlets_each; ++o) starts.push_back(start_outlet{"o" + std::to_string(k) + "-" + std::to_string(o), 0});
      note(db.write_sync(std::move(starts)));
      for (int r = 1; r <= rounds; ++r) {
        for (auto& l : held) {
          db.renew_lease(l, 60s, [&](store_result<std::optional<lease>> got) {
            note(got.status);
            if (got.ok() && !got.value) note({store_errc::fenced, "a renewal was refused"});
          });
        }
        db.append({{entry(static_cast<std::size_t>(k * 100'000 + r))}, ""}, [&](store_result<appended> a) { note(a.status); });
        for (std::size_t h = 0; h < held.size(); ++h) {
          std::vector<write_op> ops;
          for (int o = 0; o < outlets_each; ++o) {
            if (static_cast<std::size_t>(o) % held.size() != h) continue;
            ops.push_back(mark_done{"o" + std::to_string(k) + "-" + std::to_string(o), static_cast<seq_t>(r)});
          }
          db.write(std::move(ops), fence{held[h].name, held[h].token}, note);
        }
        if (r % 5 == 0) {
          note(db.read(1, 50).status);
          note(db.all_progress().status);
          note(db.flush());
        }
      }
      note(db.flush());
    });
  }
  for (auto& t : threads) t.join();
  for (int k = 0; k < instances; ++k)
    EXPECT_TRUE(first_failure[static_cast<std::size_t>(k)].empty()) << "node" << k << ": " << first_failure[static_cast<std::size_t>(k)];
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stores[0]->head().value, static_cast<seq_t>(instances * rounds));
  auto all = stores[0]->all_progress();
  ASSERT_TRUE(all.ok()) << all.status.message;
  ASSERT_EQ(all.value.size(), static_cast<std::size_t>(instances * outlets_each));
  for (const auto& p : all.value) EXPECT_EQ(p.cursor, static_cast<seq_t>(rounds)) << p.outlet;
}

// Without a clock of the test's, lease expiry is judged by the server's clock, the one every
// instance shares: a 2 s lease cannot be taken by another owner at once, and can be once it has
// expired (polled, bounded). No timing is asserted: the "not at once" check is made only when
// the other owner's attempt was over well within the 2 s (by this process's steady clock).
TEST_F(StorePg, LeaseExpiryIsJudgedByTheServerClock) {
  auto a = open();
  auto b = open();
  const auto t0 = std::chrono::steady_clock::now();
  auto first = a->acquire_lease_sync("member/a", "a", 2s);
  ASSERT_TRUE(first.ok() && first.value) << first.status.message;
  auto early = b->acquire_lease_sync("member/a", "b", 10s);
  ASSERT_TRUE(early.ok()) << early.status.message;
  if (std::chrono::steady_clock::now() - t0 < 1500ms) {
    EXPECT_FALSE(early.value.has_value()) << "a lease 2 s long was taken over before it expired";
  }
  std::optional<lease> got = early.value;
  for (int i = 0; i < 200 && !got; ++i) {
    std::this_thread::sleep_for(50ms);
    auto r = b->acquire_lease_sync("member/a", "b", 10s);
    ASSERT_TRUE(r.ok()) << r.status.message;
    got = r.value;
  }
  ASSERT_TRUE(got) << "the expired lease was never taken";
  EXPECT_GT(got->token, first.value->token);
  EXPECT_EQ(got->owner, "b");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2s) << "taken before its expiry";
  EXPECT_FALSE(a->renew_lease_sync(*first.value, 10s).value.has_value());
}

// Two schemas on one server are two stores: nothing crosses.
TEST_F(StorePg, SchemasAreSeparateStores) {
  auto a = open();
  auto o = options();
  o.schema = pg->new_schema();
  auto b = open(o);
  ASSERT_TRUE(a->append_sync({{entry(1), entry(2)}, "k"}).ok());
  ASSERT_TRUE(a->write_sync({kv_put{"n", "k", "v"}}).ok());
  EXPECT_EQ(b->head().value, 0u);
  EXPECT_FALSE(b->lookup_idempotency("k").value.has_value());
  EXPECT_FALSE(b->kv_get("n", "k").value.has_value());
  EXPECT_EQ(b->append_sync({{entry(3)}, "k"}).value.seqs, (std::vector<seq_t>{1}));
}

// Several instances starting at once on a new schema: every one opens (the creation is
// serialised), and they share one log.
TEST_F(StorePg, SeveralStoresCreatingTheSchemaAtOnceAllOpen) {
  constexpr int n = 4;
  std::vector<store_result<std::unique_ptr<store>>> opened(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] { opened[static_cast<std::size_t>(i)] = open_postgres_store(pg->url(), options()); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    auto& r = opened[static_cast<std::size_t>(i)];
    ASSERT_TRUE(r.ok() && r.value) << "store " << i << ": " << r.status.message;
    ASSERT_TRUE(r.value->append_sync({{entry(static_cast<std::size_t>(i))}, ""}).ok());
  }
  EXPECT_EQ(opened[0].value->head().value, static_cast<seq_t>(n));
}

// A server that is not there: a clear error naming the host and port and what to check, and
// no wait past the connect timeout.
TEST_F(StorePg, UnreachableServerNamesTheHostAndWhatToCheck) {
  // A port nothing listens on: the kernel's choice, released.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto o = options();
  o.connect_timeout = 2s;
  auto r = open_postgres_store("postgres://postgres@" + where + "/postgres", o);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.status.code, store_errc::io_error) << r.status.message;
  EXPECT_NE(r.status.message.find(where), std::string::npos) << r.status.message;
  auto m = migrate_postgres_store("postgres://postgres@" + where + "/postgres", schema);
  EXPECT_FALSE(m.ok());
  EXPECT_NE(m.status.message.find(where), std::string::npos) << m.status.message;
}

// `syndic store migrate`: from nothing to the current version, then nothing to do; a store
// opens on the result.
TEST_F(StorePg, MigrateCreatesTheSchemaThenHasNothingToDo) {
  auto first = migrate_postgres_store(pg->url(), schema);
  ASSERT_TRUE(first.ok()) << first.status.message;
  EXPECT_EQ(first.value.from_version, 0);
  EXPECT_GE(first.value.to_version, 1);
  auto again = migrate_postgres_store(pg->url(), schema);
  ASSERT_TRUE(again.ok()) << again.status.message;
  EXPECT_EQ(again.value.from_version, first.value.to_version);
  EXPECT_EQ(again.value.to_version, first.value.to_version);
  auto db = open();
  EXPECT_TRUE(db->append_sync({{entry(1)}, ""}).ok());
}

// A schema written by a newer syndic is refused, by open and by migrate, saying which
// versions; nothing is written to it.
TEST_F(StorePg, NewerSchemaVersionIsRefused) {
  auto m = migrate_postgres_store(pg->url(), schema);
  ASSERT_TRUE(m.ok()) << m.status.message;
  std::string out;
  ASSERT_EQ(pg->psql("INSERT INTO " + schema + ".schema_version (version, applied) VALUES (999, 0)", &out), 0) << out;
  auto r = open_postgres_store(pg->url(), options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::newer_schema) << r.status.message;
  EXPECT_NE(r.status.message.find("schema version 999 is newer than this syndic knows"), std::string::npos)
      << r.status.message;
  auto again = migrate_postgres_store(pg->url(), schema);
  EXPECT_EQ(again.status.code, store_errc::newer_schema) << again.status.message;
  ASSERT_EQ(pg->psql("SELECT count(*) FROM " + schema + ".schema_version WHERE version < 999", &out), 0) << out;
  EXPECT_EQ(out, std::to_string(m.value.to_version) + "\n");
}

// A schema holding another program's tables is not taken over.
TEST_F(StorePg, AnotherProgramsSchemaIsNotAStore) {
  std::string out;
  ASSERT_EQ(pg->psql("CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".photos (id int)", &out), 0) << out;
  auto r = open_postgres_store(pg->url(), options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::not_a_store) << r.status.message;
  EXPECT_NE(r.status.message.find("not a syndic store"), std::string::npos) << r.status.message;
  ASSERT_EQ(pg->psql("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "'", &out), 0) << out;
  EXPECT_EQ(out, "1\n");  // photos alone: nothing was created beside it
}

// The migration mechanism, with a version this binary does not have yet: applied once, in
// order, recorded; then refused by the binary that knows only the versions before it.
TEST_F(StorePg, MigratesToANewerVersionOnce) {
  {
    auto db = open();
    ASSERT_TRUE(db->append_sync({{entry(1)}, ""}).ok());
  }
  const int next = pg::newest_schema_version() + 1;
  std::vector<pg::migration> list(pg::migrations().begin(), pg::migrations().end());
  list.push_back({next, "ALTER TABLE log ADD COLUMN lang text NOT NULL DEFAULT 'en'"});
  auto c = pg::connection::open(pg->url(), 5s);
  ASSERT_TRUE(c.ok()) << c.status.message;
  migration_report report;
  auto s = pg::migrate(*c.value, schema, next, list, report);
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_EQ(report.from_version, next - 1);
  EXPECT_EQ(report.to_version, next);
  ASSERT_TRUE(pg::migrate(*c.value, schema, next, list, report).ok());  // nothing runs twice
  EXPECT_EQ(report.from_version, next);
  std::string out;
  ASSERT_EQ(pg->psql("SELECT lang FROM " + schema + ".log WHERE seq = 1", &out), 0) << out;
  EXPECT_EQ(out, "en\n");
  EXPECT_EQ(open_postgres_store(pg->url(), options()).status.code, store_errc::newer_schema);
}

// A migration that fails leaves the schema as it was (its transaction rolls back).
TEST_F(StorePg, FailedMigrationChangesNothing) {
  open().reset();
  const int next = pg::newest_schema_version() + 1;
  std::vector<pg::migration> list(pg::migrations().begin(), pg::migrations().end());
  list.push_back({next, "CREATE TABLE extra (x int); ALTER TABLE no_such_table ADD COLUMN y int"});
  auto c = pg::connection::open(pg->url(), 5s);
  ASSERT_TRUE(c.ok()) << c.status.message;
  migration_report report;
  auto s = pg::migrate(*c.value, schema, next, list, report);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message.find("schema version " + std::to_string(next)), std::string::npos) << s.message;
  std::string out;
  ASSERT_EQ(pg->psql("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "' AND tablename = 'extra'", &out),
            0)
      << out;
  EXPECT_EQ(out, "0\n");
  c.value.reset();
  EXPECT_TRUE(open_postgres_store(pg->url(), options()).ok());
}

}  // namespace
}  // namespace syndic::engine
