// Embedding syndic::engine: create an engine, add outlets, submit items, receive an outcome per
// delivery, update and remove an outlet, stop. The outlets here are played by syndic's own
// sink on loopback (syndic::testkit) so that the example runs anywhere.

#include <syndic/engine/engine.hpp>
#include <syndic/testkit/sink.hpp>

#include <iostream>
#include <mutex>

int main() {
  using namespace std::chrono_literals;
  syndic::testkit::sink_options so;
  so.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";  // the sink verifies signatures
  syndic::testkit::sink newsrooms(so);
  newsrooms.start();
  std::string base = "http://127.0.0.1:" + std::to_string(newsrooms.ports().front());

  syndic::engine::engine engine({});
  std::mutex out;
  engine.on_outcome([&](const syndic::engine::delivery_outcome& o) {  // runs on shard threads
    std::lock_guard lock(out);
    std::cout << o.outlet_id << " <- " << o.item_id << ": " << to_string(o.state) << " ("
              << o.reason << ", " << o.attempts << " attempt(s), id " << o.delivery_id << ")\n";
  });

  for (std::string name : {"paris", "tokyo", "lagos"}) {
    syndic::engine::outlet_config o;
    o.id = name;
    o.url = base + "/" + name;
    o.secret = so.secret;
    engine.add_outlet(o);
  }
  syndic::engine::outlet_config french;
  french.id = "montreal";
  french.url = base + "/montreal";
  french.format = syndic::engine::payload_format::jsonfeed;
  french.languages = {"fr"};
  engine.add_outlet(french);

  syndic::formats::feed wire;
  wire.title = "Example Wire";
  wire.self_link = "https://wire.example/feed";
  for (auto [id, title, lang] : {std::tuple{"r1", "Plant opens in Lyon", "en"},
                                 std::tuple{"r2", "Une usine ouvre a Lyon", "fr"}}) {
    syndic::formats::item it;
    it.id = id;
    it.title = title;
    it.language = lang;
    wire.items.push_back(it);
  }
  std::size_t queued = engine.submit(wire, wire.items).queued;
  bool done = engine.wait_idle(10s);
  engine.remove_outlet("lagos");
  engine.stop();
  auto s = newsrooms.stats();
  std::cout << queued << " deliveries queued, " << engine.stats().delivered << " delivered; the sink "
            << "counted " << s.delivered << " with " << s.bad_signatures << " bad signatures\n";
  return done && s.delivered == queued && s.bad_signatures == 0 ? 0 : 1;
}
