#include "daemon/outlet_sync.hpp"

namespace syndic::daemon {

outlet_sync::outlet_sync(engine::store& db, fanout& fan, outlet_sync_options options)
    : db_(db), fan_(fan), options_(std::move(options)) {}

outlet_sync::~outlet_sync() { stop(); }

void outlet_sync::seed(const std::vector<engine::stored_outlet>& loaded) {
  std::lock_guard lock(mutex_);
  for (const auto& s : loaded)
    if (!options_.file_ids.count(s.id)) known_[s.id] = s.config;
}

void outlet_sync::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void outlet_sync::stop() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

outlet_sync_counters outlet_sync::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void outlet_sync::run() {
  std::unique_lock lock(mutex_);
  while (!quit_) {
    wake_.wait_for(lock, options_.interval, [this] { return quit_; });
    if (quit_) break;
    lock.unlock();
    sync_once();
    if (options_.also) options_.also();
    lock.lock();
  }
}

void outlet_sync::sync_once() {
  auto stored = db_.outlets();
  std::lock_guard lock(mutex_);
  ++counters_.reads;
  if (!stored.ok()) {
    // The store is unreachable for now (a PostgreSQL restart): keep what runs, read again later.
    if (counters_.read_errors++ % 60 == 0 && options_.log)
      options_.log("outlet sync: cannot read the stored outlets: " + stored.status.message);
    return;
  }
  std::set<std::string> seen;
  for (const auto& s : stored.value) {
    if (options_.file_ids.count(s.id)) continue;
    seen.insert(s.id);
    auto it = known_.find(s.id);
    if (it != known_.end() && it->second == s.config) continue;
    engine::outlet_config cfg;
    std::string error = options_.parse ? options_.parse(s, cfg) : "no parser";
    if (error.empty()) error = fan_.add_outlet(std::move(cfg));
    if (!error.empty()) {
      ++counters_.refused;
      if (options_.log) options_.log("outlet sync: stored outlet '" + s.id + "' not loaded: " + error);
    } else {
      ++(it == known_.end() ? counters_.added : counters_.changed);
    }
    // Remembered even when refused: the same bytes are not tried (and logged) every second.
    known_[s.id] = s.config;
  }
  for (auto it = known_.begin(); it != known_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    fan_.remove_outlet(it->first);  // its progress stays; the deleting instance forgot it if asked
    ++counters_.removed;
    it = known_.erase(it);
  }
}

}  // namespace syndic::daemon
