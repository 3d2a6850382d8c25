// The store's durable throughput (SQLite backend, a real file under $TMPDIR or /tmp):
//  - DurableAppend: items acknowledged per second, each acknowledgement given by its
//    completion once the group commit holding it is on disk. Publishers are simulated by a
//    window of appends in flight (as many publishers each waiting for its 202);
//  - DoneMarks: outcome records per second (mark_done of (outlet, seq) pairs, outlets
//    interleaved as deliveries finish), with and without a caller-side batch.
// Both at synchronous=NORMAL and FULL. Each run checks what it timed: every append acked with
// a distinct seq and the log's head equal to their count; every outlet's cursor at the end.
//
//   build/bench/store_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <syndic/engine/store.hpp>

#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <semaphore>
#include <string>

namespace {

using namespace syndic::engine;

struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "syndic_store_bench_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::unique_ptr<store> open(const std::string& dir, sqlite_sync sync, benchmark::State& state) {
  sqlite_options o;
  o.synchronous = sync;
  auto r = open_sqlite_store(dir, o);
  if (!r.ok()) state.SkipWithError(r.status.message.c_str());
  return std::move(r.value);
}

// A JSON Feed item of about `bytes` bytes, as the daemon stores a published item.
log_entry item(std::size_t i, std::size_t bytes) {
  log_entry e;
  e.item_id = "urn:uuid:press-release-" + std::to_string(i);
  e.source = "publish";
  e.channel = "wire";
  e.content_type = "application/feed+json";
  e.payload = R"({"id":")" + e.item_id +
              R"(","title":"A press release","url":"https://example.com/releases/)" +
              std::to_string(i) + R"(","content_html":")";
  while (e.payload.size() + 3 < bytes) e.payload += "Lorem ipsum dolor sit amet. ";
  e.payload += "\"}";
  e.received = store_clock::now();
  return e;
}

// args: synchronous (0 normal, 1 full), entries per append, appends in flight.
void DurableAppend(benchmark::State& state) {
  const auto sync = state.range(0) ? sqlite_sync::full : sqlite_sync::normal;
  const auto per_append = static_cast<std::size_t>(state.range(1));
  const auto window = static_cast<std::ptrdiff_t>(state.range(2));
  constexpr std::size_t item_bytes = 1500;
  constexpr std::size_t items_per_iteration = 20'000;
  temp_dir dir;
  auto db = open(dir.path, sync, state);
  if (!db) return;
  // Made beforehand: the bench times the store, not building strings.
  std::vector<log_entry> items;
  for (std::size_t i = 0; i < 1000; ++i) items.push_back(item(i, item_bytes));

  std::size_t total = 0;
  std::atomic<std::size_t> acked{0}, failed{0};
  std::atomic<seq_t> seq_sum{0};
  for (auto _ : state) {
    std::counting_semaphore<> slots(window);
    for (std::size_t n = 0; n < items_per_iteration; n += per_append) {
      slots.acquire();
      append_request req;
      for (std::size_t k = 0; k < per_append; ++k) req.entries.push_back(items[(n + k) % items.size()]);
      db->append(std::move(req), [&](store_result<appended> r) {
        if (r.ok()) {
          acked += r.value.seqs.size();
          for (seq_t s : r.value.seqs) seq_sum += s;
        } else {
          ++failed;
        }
        slots.release();
      });
    }
    for (std::ptrdiff_t k = 0; k < window; ++k) slots.acquire();  // every ack is in
    total += items_per_iteration;
  }
  // Every item acknowledged once, with seqs 1..total (their sum says none was repeated).
  const seq_t head = db->head().value;
  if (failed != 0 || acked != total || head != total || seq_sum != total * (total + 1) / 2) {
    state.SkipWithError("appends lost, failed or numbered wrong");
  }
  const store_stats s = db->stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.SetBytesProcessed(static_cast<std::int64_t>(total * item_bytes));
  state.counters["items_per_commit"] = static_cast<double>(s.operations) / static_cast<double>(s.transactions);
  // The WAL stays bounded under sustained appends (checkpoints keep up, or the writer helps).
  std::error_code ec;
  state.counters["wal_MB"] =
      static_cast<double>(std::filesystem::file_size(dir.path + "/syndic.db-wal", ec)) / 1e6;
}

// args: synchronous, marks per write() call, outlets.
void DoneMarks(benchmark::State& state) {
  const auto sync = state.range(0) ? sqlite_sync::full : sqlite_sync::normal;
  const auto per_write = static_cast<std::size_t>(state.range(1));
  const auto outlets = static_cast<std::size_t>(state.range(2));
  constexpr std::size_t marks_per_iteration = 200'000;
  temp_dir dir;
  auto db = open(dir.path, sync, state);
  if (!db) return;
  std::vector<std::string> ids;
  {
    std::vector<write_op> start;
    for (std::size_t o = 0; o < outlets; ++o) {
      ids.push_back("outlet-" + std::to_string(o));
      start.push_back(start_outlet{ids.back(), 0});
    }
    db->write_sync(std::move(start));
  }
  seq_t next = 1;  // the next seq each outlet is told about (all outlets move together)
  std::size_t total = 0;
  for (auto _ : state) {
    std::vector<write_op> batch;
    const seq_t first = next;
    const std::size_t rounds = marks_per_iteration / outlets;
    for (std::size_t r = 0; r < rounds; ++r, ++next) {
      // Pairs finish out of order across outlets, and now and then within one: an outlet's
      // seqs come in pairs swapped (2 before 1, 4 before 3, ...).
      const seq_t s = (r % 2 == 0) ? next + 1 : next - 1;
      for (std::size_t o = 0; o < outlets; ++o) {
        batch.push_back(mark_done{ids[o], s});
        if (batch.size() == per_write) {
          db->write(std::move(batch));
          batch = {};
        }
      }
    }
    if (!batch.empty()) db->write(std::move(batch));
    db->flush();
    total += rounds * outlets;
    benchmark::DoNotOptimize(first);
  }
  // Every outlet's cursor must stand at the last seq marked (pairs swapped: it catches up).
  for (const auto& id : ids) {
    auto p = db->progress(id);
    if (!p.ok() || !p.value || p.value->cursor != next - 1) {
      state.SkipWithError("a cursor is not where the marks put it");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
}

void append_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"full", "per_append", "in_flight"});
  for (int full : {0, 1}) {
    b->Args({full, 1, 1024});  // one item per publish, 1,024 publishers waiting
    b->Args({full, 1, 64});
    b->Args({full, 100, 8});   // documents of 100 items
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
}

void marks_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"full", "per_write", "outlets"});
  for (int full : {0, 1}) {
    b->Args({full, 1, 1000});    // one write() per outcome
    b->Args({full, 256, 1000});  // the caller batches outcomes
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
}

BENCHMARK(DurableAppend)->Apply(append_args);
BENCHMARK(DoneMarks)->Apply(marks_args);

}  // namespace

BENCHMARK_MAIN();
