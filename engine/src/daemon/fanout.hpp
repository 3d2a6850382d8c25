#pragma once
// The durable fan-out: hands each outlet the log's items from its cursor on, a window at a
// time, and records what became of them. It is the one writer of outcomes: the engine's
// callbacks (shard threads) only drop them in an inbox; the fan-out's thread turns them into
// store writes (delivered seqs coalesced into ranges), one write per round, which the store
// group-commits.
//
// What it keeps in memory is bounded: per outlet, `window` pairs in the engine and the seqs
// already resolved above its cursor (usually none); decoded items in a cache of
// `cache_items`, shared by every outlet. A million pending pairs are a cursor and a head,
// not a million payloads.
//
// After a restart an outlet starts again from its stored cursor: every pair not recorded
// done is sent again; its delivery id is made from the same stored bytes, so it is the same.
//
// Threads: every member function may be called from any thread (one mutex; the hot path,
// the engine's callbacks, takes only the inbox's).
//
// Partitions (fanout_options::partitions > 0; docs/cluster.md). Several instances share one
// store and each delivers for the outlets of the partitions it holds leases on
// (cluster/coordinator.hpp says which):
//  - add_outlet keeps every outlet's definition, but only outlets of owned partitions are in
//    the engine and fed; the others are parked (checked with prepare_outlet, and their
//    progress created at the log's head if they have none, so that their owner owes them what
//    came after they were added);
//  - own(partition, fence) loads the partition's outlets' progress again (another instance
//    moved it) and starts feeding them; disown(partitions, budget) stops, lets the pairs in
//    flight end within `budget`, records their outcomes, and returns once those writes are
//    durable (or refused);
//  - every store write for an outlet carries its partition's fence (one write per fence per
//    round); a write refused as `fenced` disowns the partition at once (the lease is gone);
//  - an outcome that arrives after its partition was disowned (a request sent while it was
//    ours, answered late) is written under the fence the partition was owned with: the
//    store applies it only if nobody has taken the partition since (true, and it saves a
//    resend), else refuses it and the pair is owed to the new owner, who sends it again
//    with the same delivery id;
//  - replay and retry_dead_letters are the owner's: elsewhere they return an error naming the
//    partition (the caller forwards the request to the owner).
// With partitions = 0 (the default: one instance, SQLite) every outlet is fed, writes carry
// no fence, and own/disown do nothing.

#include <syndic/engine/engine.hpp>
#include <syndic/engine/store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace syndic::daemon {

struct fanout_options {
  std::size_t window = 64;          // pairs per outlet in the engine at once
  std::size_t cache_items = 8192;   // decoded items kept for the outlets to share
  std::size_t read_batch = 512;     // records read from the log at once
  // A round runs when something happened (an append, outcomes, an outlet added) and feeds
  // only the outlets it concerns; with nothing happening, one round this often (the log
  // head is read again: another writer may have appended).
  std::chrono::milliseconds idle_round{200};
  std::chrono::milliseconds refused_retry{20};  // the engine was full: try again after this
  // Outcomes wait this long at most before their round: they come one by one from the
  // shards, and a round (a wake-up, a store write, a commit) per few outcomes costs more
  // context switches than the deliveries themselves. Appends do not wait.
  std::chrono::microseconds outcome_batching{2'000};
  // 0: one instance feeds every outlet. P > 0: outlets hash into P partitions
  // (cluster::partition_of) and only owned partitions are fed (see the top of this file).
  std::uint32_t partitions = 0;
};

struct fanout_counters {
  std::uint64_t handed = 0;     // pairs given to the engine
  std::uint64_t delivered = 0;  // recorded done after a 2xx
  std::uint64_t filtered = 0;   // recorded done without sending (the outlet's filters)
  std::uint64_t dead = 0;       // recorded as dead letters
  std::uint64_t retries = 0;    // retry records written
  std::uint64_t undecodable = 0;
  std::uint64_t store_errors = 0;
  std::uint64_t dropped = 0;  // outcomes of partitions no longer owned, not recorded (owed)
  // Ops for partitions no longer owned, written under the fence they were owned with (the
  // store applies them only if nobody took the partition since).
  std::uint64_t late = 0;
  std::uint64_t fenced = 0;   // writes the store refused as fenced (the lease had moved on)
};

// One outlet as the fan-out sees it.
struct fanout_outlet_view {
  std::string id;
  engine::seq_t next = 0;      // the next seq it will be handed
  std::size_t in_engine = 0;   // pairs in the engine now
  std::size_t lag = 0;         // pairs owed: not yet handed, or in the engine
  bool retired = false;        // answered 410: takes nothing more
  std::uint32_t partition = 0;  // 0 when not partitioned
  bool active = true;           // fed by this instance (partition owned, or not partitioned)
};

class fanout {
public:
  fanout(engine::store& db, engine::engine& eng, fanout_options options = {});
  ~fanout();  // stop() and finish()
  fanout(const fanout&) = delete;
  fanout& operator=(const fanout&) = delete;

  // Sets the engine's callbacks: before the engine's first add_outlet or submit. The
  // observers (metrics) see every outcome and every attempt, on the shard threads.
  void attach(std::function<void(const engine::delivery_outcome&)> observe_outcome = {},
              std::function<void(const engine::attempt_report&)> observe_attempt = {});

  // Adds (or replaces) an outlet in the engine and resumes it from its stored progress; an
  // outlet never seen starts at the log's head (it is owed what comes after it was added).
  // Returns "" or what is wrong (the engine's check, or the store's error).
  // `channel`, when set, limits the outlet to that channel's items (a WebSub subscription's
  // topic is one channel's feed).
  std::string add_outlet(engine::outlet_config cfg, std::string channel = {});
  // Takes the outlet out of the engine; its progress stays (forget: deleted too).
  void remove_outlet(const std::string& id, bool forget = false);
  // Sends the outlet everything from `from` again.
  std::string replay(const std::string& id, engine::seq_t from);
  // Dead letters go out again (seqs empty: all of them).
  std::string retry_dead_letters(const std::string& id, std::vector<engine::seq_t> seqs);

  void start();
  void notify();  // the log grew
  // Stops handing out pairs; outcomes are still recorded until finish().
  void stop_feeding();
  // After the engine has drained: records the last outcomes, flushes the store, joins.
  void finish();

  // Partitioned mode (options.partitions > 0); without it these do nothing and return "".
  // Starts feeding the partition's outlets, each from its stored progress, every write for
  // them fenced with `guard` (the partition's lease name and token). Owning a partition
  // already owned under another token starts it afresh. Returns "" or the first outlet's
  // error (that outlet stays parked; the others are fed), or says the partition is out of
  // range (the coordinator's partition count differs). It reads each outlet's progress
  // (a few reads per outlet) with the fan-out's lock held: call it off the shards' threads.
  std::string own(std::uint32_t partition, engine::fence guard);
  // Stops feeding these partitions' outlets and takes them out of the engine (their queued
  // pairs end as cancelled: still owed). With budget > 0 (a handback): waits up to `budget`
  // for the pairs in flight to end, records every outcome that arrived, and returns once
  // those writes are durable or refused (or the budget is spent). With budget 0 (the lease is
  // lost): records what arrived, does not wait. Partitions not owned are ignored.
  void disown(const std::vector<std::uint32_t>& partitions, std::chrono::milliseconds budget);
  std::vector<std::uint32_t> owned_partitions() const;

  std::vector<fanout_outlet_view> outlets() const;
  fanout_counters counters() const;
  engine::seq_t head() const;

private:
  struct outlet_state {
    engine::outlet_config cfg;
    std::string channel;  // empty: every channel
    engine::seq_t next = 1;
    std::size_t in_engine = 0;
    bool retired = false;
    std::map<engine::seq_t, engine::seq_t> skip;              // resolved above the cursor: first -> last
    struct resumed {
      std::uint32_t attempts = 0;
      engine::store_time next_attempt{};
    };
    std::map<engine::seq_t, resumed> attempts;                // resumed retries: count and time
    std::deque<engine::seq_t> resend;                         // owed again, before `next`
    bool dirty = false;                                       // in dirty_
    std::uint32_t partition = 0;
    bool active = true;  // in the engine and fed (partitioned mode: its partition is owned)
  };
  struct owned_partition {
    engine::fence guard;
    bool draining = false;  // disown() under way: outcomes still recorded, nothing fed
  };
  // A round's store writes: one list per fence (partitioned) or one unfenced list.
  struct round_writes {
    std::vector<engine::write_op> plain;
    std::map<std::uint32_t, std::vector<engine::write_op>> by_partition;
    std::map<std::uint32_t, std::vector<engine::write_op>> late;  // under last_fence_
  };

  void run();
  void record_outcomes(std::vector<engine::delivery_outcome>& outcomes,
                       std::vector<engine::attempt_report>& attempts);
  void record_inbox();  // mutex_ held: takes the inbox and records it
  void feed(bool appended);
  // Returns false when the engine refused some of what it was offered (its bounds).
  bool feed_outlet(outlet_state& o, engine::seq_t head, std::vector<engine::write_op>& ops);
  bool partitioned() const { return options_.partitions > 0; }
  // Where a write for this outlet goes this round; nullptr: its partition is not ours (drop).
  std::vector<engine::write_op>* ops_for(round_writes& w, const std::string& outlet_id);
  std::vector<engine::write_op>* ops_for(round_writes& w, const outlet_state& o);
  std::vector<engine::write_op>* ops_for(round_writes& w, std::uint32_t partition);
  void issue(round_writes& w);
  void write_fenced(std::uint32_t partition, std::vector<engine::write_op> ops);
  void write_fenced(std::uint32_t partition, std::vector<engine::write_op> ops, engine::fence guard);
  void take_fenced();                          // mutex_ held: disowns partitions refused as fenced
  void drop_partition(std::uint32_t partition);  // mutex_ held: out of the engine, parked
  void reset_progress(outlet_state& o);
  std::string start_owned(outlet_state& o);  // mutex_ held: load progress, into the engine, fed
  void retry_unloaded();                     // mutex_ held: outlets whose progress failed to load
  void mark_dirty(outlet_state& o);
  void wake();  // a round soon (never with inbox_mutex_ held)
  struct cached_item {
    std::shared_ptr<const formats::feed> doc;  // null: undecodable
    std::string channel;
    std::string source;  // the log entry's source: a polled source's id, "publish"
  };
  const cached_item* item(engine::seq_t seq, std::string& error);
  static bool outlet_wants_record(const engine::outlet_config& cfg, const cached_item& c);
  void trim_cache();
  std::string load_progress(outlet_state& o);
  std::vector<outlet_state*>& members_of(std::uint32_t partition);

  engine::store& db_;
  engine::engine& engine_;
  fanout_options options_;

  mutable std::mutex mutex_;  // everything below but the inbox
  std::unordered_map<std::string, std::unique_ptr<outlet_state>> outlets_;
  std::map<engine::seq_t, cached_item> cache_;
  engine::seq_t head_ = 0;
  fanout_counters counters_;
  bool feeding_ = true;
  std::vector<outlet_state*> dirty_;    // outlets to feed next round (room, resends, new)
  std::vector<outlet_state*> refused_;  // the engine was full for these: again shortly
  std::chrono::steady_clock::time_point last_head_read_{};
  bool read_failed_ = false;  // this round, a read of the log failed (item()): feed no more
  std::atomic<std::uint64_t> write_errors_{0};  // counted by store completions
  std::atomic<std::uint64_t> fenced_writes_{0};
  std::map<std::uint32_t, owned_partition> owned_;
  // The fence each partition we no longer own was last owned under (until owned again).
  std::map<std::uint32_t, engine::fence> last_fence_;
  std::vector<std::vector<outlet_state*>> by_partition_;  // partitioned mode: P lists
  std::vector<outlet_state*> unloaded_;  // owned, but their progress could not be read yet

  // Fenced writes not yet completed, per partition, and fences the store refused; touched by
  // the store's completions (never with mutex_).
  std::mutex writes_mutex_;
  std::condition_variable writes_done_;
  std::map<std::uint32_t, std::size_t> unflushed_;
  std::vector<engine::fence> refused_fences_;

  std::mutex inbox_mutex_;
  std::condition_variable wake_;
  std::vector<engine::delivery_outcome> inbox_outcomes_;
  std::vector<engine::attempt_report> inbox_attempts_;
  bool woken_ = false;
  bool appended_ = false;  // notify(): the head moved
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace syndic::daemon
