#pragma once
// Outlets changed through another instance's API reach this one. In a cluster every instance
// reads the stored outlet definitions every `interval` and applies what changed since its last
// read to its fan-out: added or changed definitions are (re)added, deleted ones removed. The
// fan-out then feeds only those of the partitions this instance owns.
//
// Why polling and not LISTEN/NOTIFY: one read of the outlets table a second costs a few
// hundred microseconds for thousands of outlets, needs no connection held open per instance
// and cannot miss a change while a connection is down; an admin change taking up to a second
// to reach its owner is fine.
//
// Outlets from the operator's file are never touched (the file wins, as at start-up). The
// definition this instance saved itself comes back from the store and is applied once more:
// the fan-out takes an unchanged definition as a no-op carry-on.

#include "daemon/fanout.hpp"

#include <syndic/engine/store.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace syndic::daemon {

struct outlet_sync_options {
  std::chrono::milliseconds interval{1'000};
  std::set<std::string> file_ids;  // the operator's file's outlets: left alone
  // Turns a stored definition into an outlet (the daemon's outlet_from_json plus its
  // private-target rule); "" or the reason it cannot be used.
  std::function<std::string(const engine::stored_outlet&, engine::outlet_config&)> parse;
  std::function<void(const std::string&)> log;
  // Run after each read, on the sync's thread: the hub syncs its subscriptions the same way.
  std::function<void()> also;
};

struct outlet_sync_counters {
  std::uint64_t reads = 0, added = 0, changed = 0, removed = 0, refused = 0, read_errors = 0;
};

class outlet_sync {
public:
  outlet_sync(engine::store& db, fanout& fan, outlet_sync_options options);
  ~outlet_sync();  // stop()

  // What the instance loaded at start (id -> stored config bytes): not applied again.
  void seed(const std::vector<engine::stored_outlet>& loaded);
  void start();
  // One read and apply now (tests; start() runs it every interval).
  void sync_once();
  void stop();
  outlet_sync_counters counters() const;

private:
  void run();

  engine::store& db_;
  fanout& fan_;
  outlet_sync_options options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> known_;  // id -> config bytes last applied
  outlet_sync_counters counters_;
  std::condition_variable wake_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace syndic::daemon
