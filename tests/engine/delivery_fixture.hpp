#pragma once
// The engine against `syndic::engine::sink` on loopback: the fixture and helpers the engine's
// delivery tests share (real sockets, real curl).

#include <syndic/engine/engine.hpp>
#include <syndic/testkit/sink.hpp>

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

namespace syndic::engine {
namespace {

using namespace syndic::testkit;  // the sink plays the outlets

using namespace std::chrono_literals;

inline formats::feed feed_with(std::size_t n, const std::string& prefix = "item") {
  formats::feed f;
  f.title = "Test wire";
  f.self_link = "http://127.0.0.1/feed";
  f.hubs.push_back("http://127.0.0.1/hub");
  for (std::size_t i = 0; i < n; ++i) {
    formats::item it;
    it.id = prefix + "-" + std::to_string(i);
    it.title = "Item " + std::to_string(i);
    it.language = i % 2 ? "fr" : "en";
    f.items.push_back(it);
  }
  return f;
}

struct recorder {
  std::mutex mutex;
  std::vector<delivery_outcome> outcomes;
  std::vector<std::chrono::steady_clock::time_point> at;  // when each outcome came
  void operator()(const delivery_outcome& o) {
    std::lock_guard lock(mutex);
    outcomes.push_back(o);
    at.push_back(std::chrono::steady_clock::now());
  }
  std::map<final_state, int> by_state() {
    std::lock_guard lock(mutex);
    std::map<final_state, int> m;
    for (const auto& o : outcomes) ++m[o.state];
    return m;
  }
};

inline outlet_config outlet(const std::string& id, std::uint16_t port, const std::string& path = "/hook") {
  outlet_config o;
  o.id = id;
  o.url = "http://127.0.0.1:" + std::to_string(port) + path;
  o.timeout = 2000ms;
  o.retry.base = 50ms;
  o.retry.cap = 200ms;
  return o;
}

// Each (outlet, delivery id) has exactly one outcome, and there are `n` of them.
inline void expect_one_outcome_each(recorder& rec, std::size_t n) {
  std::lock_guard lock(rec.mutex);
  std::map<std::string, int> per_delivery;
  for (const auto& o : rec.outcomes) ++per_delivery[o.outlet_id + "/" + o.delivery_id];
  EXPECT_EQ(per_delivery.size(), n);
  for (const auto& [id, count] : per_delivery) EXPECT_EQ(count, 1) << id;
}

struct fixture : ::testing::Test {
  std::unique_ptr<sink> server;
  std::uint16_t port = 0;
  recorder rec;
  std::unique_ptr<engine> eng;

  void start(sink_options so, engine_options eo = {}) {
    so.first_port = 0;
    server = std::make_unique<sink>(so);
    server->start();
    port = server->ports().front();
    eo.shards = eo.shards ? eo.shards : 2;
    eng = std::make_unique<engine>(eo);
    eng->on_outcome([this](const delivery_outcome& o) { rec(o); });
  }

  // Submits n items to every outlet and waits until each pair has ended.
  void push_and_wait(std::size_t n, std::chrono::seconds limit = 10s) {
    auto f = feed_with(n);
    eng->submit(f, f.items);
    ASSERT_TRUE(eng->wait_idle(limit));
  }

  // Like push_and_wait, and returns how long it took from submit to the last outcome.
  std::chrono::steady_clock::duration timed_push_and_wait(std::size_t n, std::chrono::seconds limit = 10s) {
    auto t0 = std::chrono::steady_clock::now();
    push_and_wait(n, limit);
    return std::chrono::steady_clock::now() - t0;
  }

  // Adds 20 healthy outlets on the main sink, submits 5 items to every outlet, and returns how
  // long the 100 healthy deliveries took (5 s at most), without waiting for the rest.
  std::chrono::steady_clock::duration healthy_delivery_time() {
    for (int i = 0; i < 20; ++i) eng->add_outlet(outlet("ok" + std::to_string(i), port, "/" + std::to_string(i)));
    auto f = feed_with(5);
    auto t0 = std::chrono::steady_clock::now();
    eng->submit(f, f.items);
    while (server->stats().delivered < 100 && std::chrono::steady_clock::now() - t0 < 5s)
      std::this_thread::sleep_for(5ms);
    return std::chrono::steady_clock::now() - t0;
  }

  // The delivered outcomes name item-0, item-1, ... item-(n-1), in that order.
  void expect_delivered_in_log_order(std::size_t n) {
    std::vector<std::string> delivered;
    for (const auto& out : rec.outcomes)
      if (out.state == final_state::delivered) delivered.push_back(out.item_id);
    ASSERT_EQ(delivered.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(delivered[i], "item-" + std::to_string(i));
  }

  // A second server on its own port, answering as `b` says.
  static std::unique_ptr<sink> other_sink(sink_behaviour b) {
    sink_options o;
    o.default_behaviour = b;
    auto s = std::make_unique<sink>(o);
    s->start();
    return s;
  }
};

}  // namespace
}  // namespace syndic::engine
