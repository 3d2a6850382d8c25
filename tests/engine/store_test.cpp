// The store's item log, outlets, keyed state, subscriptions and group commit, on each backend:
// real SQLite files in temporary directories, and a real PostgreSQL server (a schema per test).

#include "store_test_support.hpp"

#include "store/fault_injection.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

struct Store : backend_test {};
SYNDIC_STORE_BACKENDS(Store);

TEST_P(Store, AppendAssignsAscendingSeqs) {
  auto db = open();
  auto a = db->append_sync({{entry(1), entry(2), entry(3)}, ""});
  ASSERT_TRUE(a.ok()) << a.status.message;
  EXPECT_EQ(a.value.seqs, (std::vector<seq_t>{1, 2, 3}));
  EXPECT_FALSE(a.value.duplicate);
  auto b = db->append_sync({{entry(4), entry(5)}, ""});
  EXPECT_EQ(b.value.seqs, (std::vector<seq_t>{4, 5}));
  EXPECT_EQ(db->head().value, 5u);
}

TEST_P(Store, EmptyStoreHasHeadZero) {
  auto db = open();
  EXPECT_EQ(db->head().value, 0u);
  auto r = db->read(1, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value.empty());
  EXPECT_FALSE(db->get(1).value.has_value());
}

TEST_P(Store, RecordRoundTripsEveryField) {
  auto db = open();
  log_entry e = entry(7);
  e.payload = std::string("bin\0ary\xff\x00", 10);  // opaque bytes, NULs included
  e.channel = "sports";
  e.source = "feed-42";
  ASSERT_TRUE(db->append_sync({{e}, "key-7"}).ok());
  auto r = db->get(1);
  ASSERT_TRUE(r.ok() && r.value) << r.status.message;
  const log_record& got = *r.value;
  EXPECT_EQ(got.seq, 1u);
  EXPECT_EQ(got.item_id, e.item_id);
  EXPECT_EQ(got.source, "feed-42");
  EXPECT_EQ(got.channel, "sports");
  EXPECT_EQ(got.content_type, e.content_type);
  EXPECT_EQ(got.payload, e.payload);
  EXPECT_EQ(got.received, e.received);
  EXPECT_EQ(got.idempotency_key, "key-7");
}

TEST_P(Store, ReadRangeIsBounded) {
  auto db = open();
  append_request req;
  for (std::size_t i = 1; i <= 100; ++i) req.entries.push_back(entry(i, 1000));
  ASSERT_TRUE(db->append_sync(std::move(req)).ok());

  auto r = db->read(10, 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(r.value[i].seq, 10 + i);
    EXPECT_EQ(r.value[i].item_id, "item-" + std::to_string(10 + i));
  }
  EXPECT_EQ(db->read(95, 20).value.size(), 6u);  // 95..100
  EXPECT_TRUE(db->read(101, 20).value.empty());
  EXPECT_TRUE(db->read(1, 0).value.empty());
  // max_bytes: stops once the payloads reach it, but always returns one record.
  EXPECT_EQ(db->read(1, 100, 3500).value.size(), 4u);
  EXPECT_EQ(db->read(1, 100, 1).value.size(), 1u);
}

TEST_P(Store, IdempotencyKeyReturnsTheFirstSeqsAndAppendsNothing) {
  auto db = open();
  ASSERT_TRUE(db->append_sync({{entry(1)}, ""}).ok());
  auto first = db->append_sync({{entry(2), entry(3)}, "pub-abc"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value.seqs, (std::vector<seq_t>{2, 3}));

  auto again = db->append_sync({{entry(9)}, "pub-abc"});  // a retry, even with other content
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.value.duplicate);
  EXPECT_EQ(again.value.seqs, (std::vector<seq_t>{2, 3}));
  EXPECT_EQ(db->head().value, 3u);

  auto found = db->lookup_idempotency("pub-abc");
  ASSERT_TRUE(found.ok() && found.value);
  EXPECT_EQ(*found.value, (std::vector<seq_t>{2, 3}));
  EXPECT_FALSE(db->lookup_idempotency("other").value.has_value());
  EXPECT_FALSE(db->lookup_idempotency("").value.has_value());
}

TEST_P(Store, IdempotencyHoldsWithinOneGroupCommit) {
  options o;
  o.commit_interval = 50ms;  // both appends land in one transaction
  auto db = open(o);
  std::mutex m;
  std::vector<store_result<appended>> results;
  for (int i = 0; i < 2; ++i) {
    db->append({{entry(static_cast<std::size_t>(i))}, "same-key"}, [&](store_result<appended> r) {
      std::lock_guard lk(m);
      results.push_back(std::move(r));
    });
  }
  ASSERT_TRUE(db->flush().ok());
  std::lock_guard lk(m);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].value.duplicate);
  EXPECT_TRUE(results[1].value.duplicate);
  EXPECT_EQ(results[0].value.seqs, results[1].value.seqs);
  EXPECT_EQ(db->head().value, 1u);
}

TEST_P(Store, LatestOfAChannelNewestFirst) {
  auto db = open();
  append_request req;
  for (std::size_t i = 1; i <= 10; ++i) req.entries.push_back(entry(i, 64, i % 2 ? "odd" : "even"));
  ASSERT_TRUE(db->append_sync(std::move(req)).ok());
  auto r = db->latest("odd", 3);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value.size(), 3u);
  EXPECT_EQ(r.value[0].seq, 9u);
  EXPECT_EQ(r.value[1].seq, 7u);
  EXPECT_EQ(r.value[2].seq, 5u);
  EXPECT_TRUE(db->latest("none", 3).value.empty());
}

// The completion runs once the transaction is committed: a read from inside it already sees
// the record (a 202 sent from there is never ahead of the disk).
TEST_P(Store, CompletionSeesItsWriteCommitted) {
  auto db = open();
  std::promise<bool> seen;
  db->append({{entry(1)}, ""}, [&](store_result<appended> r) {
    auto rec = db->get(r.value.seqs.at(0));
    seen.set_value(r.ok() && rec.ok() && rec.value.has_value());
  });
  EXPECT_TRUE(seen.get_future().get());
}

TEST_P(Store, CompletionsRunInQueueOrder) {
  auto db = open();
  std::vector<int> order;  // written by the writer thread only
  for (int i = 0; i < 200; ++i) {
    if (i % 2) {
      db->append({{entry(static_cast<std::size_t>(i))}, ""},
                 [&order, i](store_result<appended>) { order.push_back(i); });
    } else {
      db->write({kv_put{"ns", std::to_string(i), "v"}}, [&order, i](store_status) { order.push_back(i); });
    }
  }
  ASSERT_TRUE(db->flush().ok());
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

// Many writes queued at once become few transactions, not one each.
TEST_P(Store, GroupCommitTakesManyWritesPerTransaction) {
  options o;
  o.commit_interval = 50ms;
  auto db = open(o);
  std::atomic<int> acked{0};
  for (std::size_t i = 0; i < 2000; ++i) {
    db->append({{entry(i)}, ""}, [&](store_result<appended> r) {
      if (r.ok()) ++acked;
    });
  }
  ASSERT_TRUE(db->flush().ok());
  EXPECT_EQ(acked.load(), 2000);
  const store_stats s = db->stats();
  EXPECT_EQ(s.operations, 2000u);
  EXPECT_LT(s.transactions, 100u) << "group commit made " << s.transactions << " transactions";
}

// commit_max_ops closes a group early: 1,000 one-op writes with a 100-op cap are 10
// transactions (the 10 s interval never elapses: each group fills first).
TEST_P(Store, CommitMaxOpsClosesAGroup) {
  options o;
  o.commit_interval = 10s;
  o.commit_max_ops = 100;
  auto db = open(o);
  for (int i = 0; i < 1000; ++i) db->write({kv_put{"n", std::to_string(i), "v"}});
  ASSERT_TRUE(db->flush().ok());
  EXPECT_EQ(db->stats().transactions, 10u);
  EXPECT_EQ(db->kv_list("n", "", 2000).value.size(), 1000u);
}

// Appends beyond max_queued_entries are refused at once with `busy` (the publisher retries),
// never queued without bound; other writes are not refused; once the queue drains, appends
// are taken again.
TEST_P(Store, AppendsPastTheQueueBoundAreRefusedWithBusy) {
  options o;
  o.commit_interval = 10s;  // nothing leaves the queue until the flush
  o.max_queued_entries = 10;
  auto db = open(o);
  std::atomic<int> ok{0};
  for (std::size_t i = 0; i < 4; ++i)  // 8 entries queued
    db->append({{entry(2 * i), entry(2 * i + 1)}, ""}, [&](store_result<appended> r) { ok += r.ok(); });
  std::promise<store_result<appended>> refused;
  db->append({{entry(8), entry(9), entry(10)}, ""}, [&](store_result<appended> r) { refused.set_value(r); });
  auto r = refused.get_future().get();  // completed at once, on this thread
  EXPECT_EQ(r.status.code, store_errc::busy);
  EXPECT_NE(r.status.message.find("write queue full"), std::string::npos) << r.status.message;
  db->write({kv_put{"a", "b", "c"}});  // not bounded
  ASSERT_TRUE(db->flush().ok());
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(db->head().value, 8u);
  // (append + flush rather than append_sync: flush() ends the 10 s wait for a group.)
  db->append({{entry(8), entry(9), entry(10)}, ""}, [&](store_result<appended> r) { ok += r.ok(); });
  ASSERT_TRUE(db->flush().ok());
  EXPECT_EQ(ok.load(), 5);
  // One append larger than the bound is taken when the queue is empty (else it never could be).
  append_request big;
  for (std::size_t i = 0; i < 20; ++i) big.entries.push_back(entry(100 + i));
  db->append(std::move(big), [&](store_result<appended> r) { ok += r.ok(); });
  ASSERT_TRUE(db->flush().ok());
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(db->head().value, 31u);
}

TEST_P(Store, WritesAfterCloseCompleteWithClosed) {
  auto db = open();
  ASSERT_TRUE(db->append_sync({{entry(1)}, ""}).ok());
  db->close();
  db->close();  // idempotent
  auto r = db->append_sync({{entry(2)}, ""});
  EXPECT_EQ(r.status.code, store_errc::closed);
  EXPECT_EQ(db->write_sync({kv_put{"a", "b", "c"}}).code, store_errc::closed);
  EXPECT_EQ(db->head().status.code, store_errc::closed);
  EXPECT_EQ(db->flush().code, store_errc::closed);
}

// close() commits what is queued and runs its completions before it returns.
TEST_P(Store, CloseCommitsWhatIsQueued) {
  std::atomic<int> acked{0};
  {
    options o;
    o.commit_interval = 10s;
    auto db = open(o);
    for (std::size_t i = 0; i < 50; ++i)
      db->append({{entry(i)}, ""}, [&](store_result<appended> r) { acked += r.ok(); });
    db->close();
    EXPECT_EQ(acked.load(), 50);
  }
  auto db = open();
  EXPECT_EQ(db->head().value, 50u);
}

TEST_P(Store, OutletDefinitionsPutListRemove) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  auto db = open(o);
  ASSERT_TRUE(db->write_sync({save_outlet{{"b", "config-b", {}}}, save_outlet{{"a", "config-a", {}}}}).ok());
  ASSERT_TRUE(db->write_sync({save_outlet{{"a", "config-a2", {}}}}).ok());  // replaces
  auto all = db->outlets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), 2u);
  EXPECT_EQ(all.value[0].id, "a");
  EXPECT_EQ(all.value[0].config, "config-a2");
  EXPECT_EQ(all.value[0].updated, clock.now());
  EXPECT_EQ(all.value[1].id, "b");
  ASSERT_TRUE(db->write_sync({delete_outlet{"a"}}).ok());
  EXPECT_FALSE(db->outlet("a").value.has_value());
  EXPECT_EQ(db->outlet("b").value->config, "config-b");
}

TEST_P(Store, KeyedStatePutGetListErase) {
  auto db = open();
  std::vector<write_op> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(kv_put{"seen/src1", "id-" + std::to_string(i), "1"});
  ops.push_back(kv_put{"validators", "src1", std::string("etag\0lm", 7)});
  ASSERT_TRUE(db->write_sync(std::move(ops)).ok());

  EXPECT_EQ(*db->kv_get("validators", "src1").value, std::string("etag\0lm", 7));
  EXPECT_FALSE(db->kv_get("validators", "src2").value.has_value());
  auto page1 = db->kv_list("seen/src1", "", 4);
  ASSERT_EQ(page1.value.size(), 4u);
  EXPECT_EQ(page1.value[3].key, "id-3");
  auto page2 = db->kv_list("seen/src1", page1.value.back().key, 100);
  ASSERT_EQ(page2.value.size(), 6u);
  EXPECT_EQ(page2.value[0].key, "id-4");

  ASSERT_TRUE(db->write_sync({kv_erase{"seen/src1", "id-0"}}).ok());
  EXPECT_EQ(db->kv_list("seen/src1", "", 100).value.size(), 9u);
  ASSERT_TRUE(db->write_sync({kv_erase_namespace{"seen/src1"}}).ok());
  EXPECT_TRUE(db->kv_list("seen/src1", "", 100).value.empty());
  EXPECT_TRUE(db->kv_get("validators", "src1").value.has_value());
}

TEST_P(Store, SubscriptionsPutReplaceListExpire) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  auto db = open(o);
  const store_time t0 = clock.now();
  ASSERT_TRUE(db->write_sync({
                    put_subscription{{"http://t/1", "http://cb/a", "s1", t0 + 10s, {}}},
                    put_subscription{{"http://t/1", "http://cb/b", "", t0 + 100s, {}}},
                    put_subscription{{"http://t/2", "http://cb/a", "", t0 + 5s, {}}},
                })
                  .ok());
  // Re-subscribing replaces (one subscription per topic and callback).
  ASSERT_TRUE(db->write_sync({put_subscription{{"http://t/1", "http://cb/a", "s2", t0 + 20s, {}}}}).ok());
  auto t1 = db->subscriptions("http://t/1");
  ASSERT_EQ(t1.value.size(), 2u);
  EXPECT_EQ(t1.value[0].callback, "http://cb/a");
  EXPECT_EQ(t1.value[0].secret, "s2");
  EXPECT_EQ(t1.value[0].lease_expiry, t0 + 20s);
  EXPECT_EQ(t1.value[0].created, t0);
  EXPECT_EQ(db->subscriptions("").value.size(), 3u);

  ASSERT_TRUE(db->write_sync({expire_subscriptions{t0 + 15s}}).ok());  // drops t/2 (5 s)
  EXPECT_TRUE(db->subscriptions("http://t/2").value.empty());
  ASSERT_TRUE(db->write_sync({remove_subscription{"http://t/1", "http://cb/b"}}).ok());
  EXPECT_EQ(db->subscriptions("").value.size(), 1u);
}

TEST_P(Store, ReadsFromManyThreadsWhileWriting) {
  options o;
  o.read_connections = 2;  // fewer than the readers: some wait for a connection
  auto db = open(o);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      seq_t last = 0;
      for (int i = 0; i < 100000 && !stop; ++i) {
        auto h = db->head();
        if (!h.ok() || h.value < last) ++failures;  // the head never goes back
        last = h.value;
        auto r = db->read(h.value > 10 ? h.value - 10 : 1, 20);
        if (!r.ok()) ++failures;
        for (std::size_t k = 1; k < r.value.size(); ++k)
          if (r.value[k].seq != r.value[k - 1].seq + 1) ++failures;  // dense, in order
      }
    });
  }
  for (std::size_t i = 0; i < 500; ++i) db->append({{entry(i)}, ""}, {});
  ASSERT_TRUE(db->flush().ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db->head().value, 500u);
}

// The WAL is copied back into the database file by the store's checkpointer thread, not left
// to grow (nor done by the writer's commits below 64 MB of WAL).
TEST(StoreSqlite, CheckpointsMoveTheWalIntoTheFile) {
  temp_dir dir;
  sqlite_options o;
  o.synchronous = sqlite_sync::normal;
  auto db = open_or_fail(dir.path, o);
  const std::string file = dir.path + "/syndic.db";
  const auto before = std::filesystem::file_size(file);
  append_request req;
  for (std::size_t i = 0; i < 4000; ++i) req.entries.push_back(entry(i, 2000));  // ~2,000+ pages
  ASSERT_TRUE(db->append_sync(std::move(req)).ok());
  // The checkpoint runs after the commit, on its own thread: wait for it (bounded).
  for (int i = 0; i < 500 && std::filesystem::file_size(file) < before + 4'000'000; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(std::filesystem::file_size(file), before + 4'000'000);
  EXPECT_EQ(db->read(1, 5000).value.size(), 4000u);
}

// The fault-injecting wrapper (for the daemon's tests): chosen writes fail with the chosen
// error and never reach the file; the rest pass through.
TEST_P(Store, FaultInjectionFailsTheChosenWrites) {
  faulty_store db(open());
  ASSERT_TRUE(db.append_sync({{entry(1)}, ""}).ok());
  db.fail_writes(store_errc::io_error, 2);
  auto a = db.append_sync({{entry(2)}, ""});
  EXPECT_EQ(a.status.code, store_errc::io_error);
  EXPECT_EQ(db.write_sync({kv_put{"a", "b", "c"}}).code, store_errc::io_error);
  EXPECT_TRUE(db.append_sync({{entry(3)}, ""}).ok());  // the third passes
  EXPECT_EQ(db.head().value, 2u);
  EXPECT_FALSE(db.kv_get("a", "b").value.has_value());
  db.fail_writes(store_errc::fenced);
  EXPECT_EQ(db.acquire_lease_sync("p", "me", 1s).status.code, store_errc::fenced);
  db.heal();
  EXPECT_TRUE(db.acquire_lease_sync("p", "me", 1s).value.has_value());
  EXPECT_EQ(db.failed(), 3u);
}

}  // namespace
}  // namespace syndic::engine
