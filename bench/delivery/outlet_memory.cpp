// Bytes per idle outlet: RSS with N outlets loaded into the engine, minus the RSS of the same
// engine with none.   outlet_memory [N]

#include <syndic/engine/engine.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

static long rss_kib() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? std::stol(argv[1]) : 100000;
  syndic::engine::engine_options o;
  o.shards = 2;
  syndic::engine::engine e(o);
  syndic::engine::outlet_config warm;
  warm.id = "warm";
  warm.url = "http://127.0.0.1:1/";
  e.add_outlet(warm);  // starts the shards, their threads and transports
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long before = rss_kib();
  for (long i = 0; i < n; ++i) {
    syndic::engine::outlet_config c;
    c.id = "outlet-" + std::to_string(i);
    c.url = "http://127.0.0.1:" + std::to_string(20000 + i % 1000) + "/o/" + std::to_string(i);
    c.rate = 10;
    c.burst = 5;
    e.add_outlet(std::move(c));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // let the shards take them
  long after = rss_kib();
  std::printf("{\"outlets\":%ld,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,\"bytes_per_outlet\":%.0f}\n", n,
              before, after, (after - before) * 1024.0 / static_cast<double>(n));
  e.stop();
}
