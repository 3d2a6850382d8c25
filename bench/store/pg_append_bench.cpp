// Durable appends/s on the PostgreSQL store, through the store API with its group commit:
// items acknowledged per second, each acknowledgement given by its completion once the round
// holding it has committed (fsync and synchronous_commit as the server has them). Publishers
// are simulated by a window of one-item appends in flight per store object; several store
// objects on one schema stand for several instances appending to the one log (they take the
// log_head row lock in turn).
//
//   build/bench/pg_append_bench URL [items=200000] [bytes=1024] [window=20000] [stores=1] [schema=pg_append_bench]
//   build/bench/pg_append_bench postgres://postgres@127.0.0.1:15432/postgres 200000 1024 20000 1
//
// The schema is dropped and made again first. At the end it checks what it timed: every
// append acknowledged, seqs distinct, and the log's head equal to their count.

#include <syndic/engine/store.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace syndic::engine;

namespace {

// A JSON Feed item of about `bytes` bytes, as the daemon stores a published item.
log_entry item(std::size_t i, std::size_t bytes) {
  log_entry e;
  e.item_id = "urn:uuid:press-release-" + std::to_string(i);
  e.source = "publish";
  e.channel = "wire";
  e.content_type = "application/feed+json";
  e.payload = R"({"id":")" + e.item_id + R"(","title":"A press release","content_html":")";
  while (e.payload.size() + 30 < bytes) e.payload += "Lorem ipsum dolor sit amet. ";
  e.payload.append(bytes > e.payload.size() + 2 ? bytes - e.payload.size() - 2 : 0, '.');
  e.payload += "\"}";
  e.received = store_clock::now();
  return e;
}

std::size_t arg(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [items] [bytes] [window] [stores] [schema]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const std::size_t items = arg(argc, argv, 2, 200'000);
  const std::size_t bytes = arg(argc, argv, 3, 1024);
  const std::size_t window = arg(argc, argv, 4, 20'000);
  const std::size_t n_stores = std::max<std::size_t>(1, arg(argc, argv, 5, 1));
  const std::string schema = argc > 6 ? argv[6] : "pg_append_bench";

  // A fresh schema: the store makes its tables; this drops the previous run's first.
  {
    const std::string drop = "psql -q -X '" + url + "' -c 'DROP SCHEMA IF EXISTS " + schema + " CASCADE' >/dev/null 2>&1";
    if (std::system(drop.c_str()) != 0) std::fprintf(stderr, "note: could not drop %s with psql\n", schema.c_str());
  }
  std::vector<std::unique_ptr<store>> stores;
  for (std::size_t k = 0; k < n_stores; ++k) {
    postgres_options o;
    o.schema = schema;
    auto r = open_postgres_store(url, o);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status.message.c_str());
      return 1;
    }
    stores.push_back(std::move(r.value));
  }
  // Made beforehand: the bench times the store, not building strings.
  std::vector<log_entry> made;
  for (std::size_t i = 0; i < 1000; ++i) made.push_back(item(i, bytes));

  std::atomic<std::size_t> acked{0}, failed{0};
  std::mutex m;
  std::set<seq_t> seqs;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> publishers;
  for (std::size_t k = 0; k < n_stores; ++k) {
    publishers.emplace_back([&, k] {
      const std::size_t mine = items / n_stores + (k < items % n_stores ? 1 : 0);
      std::atomic<std::size_t> done{0};
      for (std::size_t i = 0; i < mine; ++i) {
        for (int spins = 0; i - done.load() >= window && spins < 10'000'000; ++spins)
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        stores[k]->append({{made[i % made.size()]}, ""}, [&](store_result<appended> r) {
          if (r.ok() && r.value.seqs.size() == 1) {
            ++acked;
            std::lock_guard lk(m);
            seqs.insert(r.value.seqs[0]);
          } else {
            ++failed;
          }
          ++done;
        });
      }
      stores[k]->flush();
    });
  }
  for (auto& t : publishers) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::uint64_t transactions = 0;
  for (auto& s : stores) transactions += s->stats().transactions;
  const seq_t head = stores[0]->head().value;
  std::printf("%zu appends of %zu B from %zu store(s), window %zu each: %.2f s, %.0f acknowledged/s; "
              "%llu transactions (%.0f items each); failed %zu\n",
              items, bytes, n_stores, window, secs, static_cast<double>(acked.load()) / secs,
              static_cast<unsigned long long>(transactions),
              transactions ? static_cast<double>(acked.load()) / static_cast<double>(transactions) : 0.0,
              failed.load());
  const bool good = failed.load() == 0 && acked.load() == items && seqs.size() == items && head == items;
  if (!good) std::printf("CHECK FAILED: acked %zu, distinct seqs %zu, head %llu\n", acked.load(), seqs.size(),
                         static_cast<unsigned long long>(head));
  for (auto& s : stores) s->close();
  return good ? 0 : 1;
}
