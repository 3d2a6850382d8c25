#include "daemon/websub_subscriber.hpp"
#include "daemon/text.hpp"

#include "daemon/api_routes.hpp"
#include "daemon/metrics.hpp"
#include "daemon/ssrf.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

namespace syndic::daemon {

using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using wall = std::chrono::system_clock;
using time_point = wall::time_point;

namespace {

constexpr std::string_view kv_namespace = "websub.client";
constexpr std::size_t max_url_bytes = 2048;  // a hub or topic longer than this is ignored
constexpr time_point never = time_point::max();


int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 32 bytes from the kernel's CSPRNG, as 64 hex digits (WebSub: a secret under 200 bytes).
std::string fresh_secret() {
  unsigned char raw[32];
  std::size_t got = 0;
  for (int tries = 0; got < sizeof raw && tries < 100; ++tries) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR) break;
  }
  if (got < sizeof raw) {  // no getrandom (old kernel, seccomp): the library's CSPRNG source
    std::random_device rd;
    for (auto& b : raw) b = static_cast<unsigned char>(rd());
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

bool valid_source_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

std::int64_t to_ms(time_point t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }
time_point from_ms(std::int64_t ms) { return time_point(duration_cast<wall::duration>(milliseconds(ms))); }

std::int64_t number(std::string_view s, std::int64_t fallback = 0) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

std::string describe(const engine::http::response& r) {
  if (r.status != 0) return "the hub answered " + std::to_string(r.status);
  std::string out(engine::http::to_string(r.error));
  out += ": ";
  out += r.error_detail.empty() ? std::string(engine::http::describe(r.error)) : r.error_detail.substr(0, 200);
  return out;
}

}  // namespace

bool verify_hub_signature(std::string_view secret, std::string_view body, std::string_view header) {
  auto eq = header.find('=');
  if (eq == std::string_view::npos || secret.empty()) return false;
  std::string algo;
  for (char c : header.substr(0, eq)) algo += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  const EVP_MD* md = algo == "sha256" ? EVP_sha256()
                     : algo == "sha1" ? EVP_sha1()
                     : algo == "sha384" ? EVP_sha384()
                     : algo == "sha512" ? EVP_sha512()
                                        : nullptr;
  if (!md) return false;
  std::string_view hex = header.substr(eq + 1);
  auto size = static_cast<std::size_t>(EVP_MD_get_size(md));
  if (size == 0 || size > EVP_MAX_MD_SIZE || hex.size() != 2 * size) return false;
  unsigned char want[EVP_MAX_MD_SIZE];
  for (std::size_t i = 0; i < size; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    want[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char empty = 0;
  const auto* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  if (!HMAC(md, secret.data(), static_cast<int>(secret.size()), data, body.size(), mac, &len)) return false;
  return len == size && CRYPTO_memcmp(mac, want, size) == 0;
}

// ---- the state ------------------------------------------------------------------------------

struct websub_subscriber::impl : std::enable_shared_from_this<impl> {
  // Where the latest subscribe (or unsubscribe) request of a record stands.
  enum class phase : std::uint8_t { idle, posting, verifying };

  // One per source that advertised a hub.
  struct record {
    std::string source, hub, topic;
    std::string secret;          // of the verified subscription
    std::string pending_secret;  // sent with the request not yet verified
    std::string prev_secret;     // accepted until prev_until (deliveries in flight at a renewal)
    time_point prev_until{};
    phase ph = phase::idle;
    std::uint64_t request = 0;  // the POST in flight (a late answer to an older one is ignored)
    time_point verify_deadline{};
    bool verified = false;
    time_point expiry{};
    seconds lease{0};
    time_point next_try{};  // idle: the next subscribe (when verified: the renewal)
    std::uint32_t failures = 0;
    bool denied = false;
    std::string refused;  // why the hub may not be used: no request is ever sent
    std::string last_error;
    std::optional<time_point> last_delivery;
    bool quiet = false;   // missed items a poll found; until the next good delivery (memory only)
    bool pushed = false;  // what set_pushed was last told (queued)
    time_point wake = never;  // its entry in the agenda
  };

  // An unsubscription from a hub and topic a source no longer uses (memory only).
  struct leaving {
    std::uint64_t id = 0;
    std::string source, hub, topic;
    phase ph = phase::idle;
    std::uint64_t request = 0;
    std::uint32_t attempts = 0;
    time_point next_try{}, verify_deadline{};
    time_point wake = never;
  };

  struct waiting {  // a delivery's answer, waiting for its ingest
    time_point deadline;
    responder answer;
  };

  struct outgoing {
    engine::http::request req;
    std::string key;  // the record's source, or the leaving's id
    std::uint64_t request = 0;
    bool unsubscribe = false;
  };

  impl(engine::store& db, websub_subscriber_options options, websub_hooks hooks)
      : db_(db), options_(std::move(options)), hooks_(std::move(hooks)), rng_(std::random_device{}()),
        client_([this] {
          engine::http::client_options o;
          o.verify_tls = options_.verify_tls;
          o.ca_file = options_.ca_file;
          // A hub's name may resolve inside: every address is checked before connecting.
          if (!options_.allow_private_targets)
            o.refuse_address = [](const sockaddr& a) {
              target_check c = check_address(a);
              return c ? std::string() : c.reason;
            };
          return o;
        }()) {}

  engine::store& db_;
  websub_subscriber_options options_;
  websub_hooks hooks_;

  mutable std::mutex mutex_;
  std::condition_variable wake_cv_;
  bool quit_ = false;
  bool kicked_ = false;
  std::unordered_map<std::string, record> records_;
  std::map<std::uint64_t, leaving> leaving_;  // by id: the oldest first
  // (when, "s" + source | "u" + leaving id): the timer thread's one heap of things to do.
  std::set<std::pair<time_point, std::string>> agenda_;
  std::map<std::uint64_t, waiting> waiting_;
  std::deque<std::pair<std::string, bool>> notify_;  // set_pushed calls, in order
  std::vector<outgoing> outbox_;
  std::uint64_t next_id_ = 1;
  websub_subscriber_counters counters_;
  std::minstd_rand rng_;
  time_point last_drop_log_{};
  std::thread timer_;
  // Last: destroyed first, so that callbacks cancelled by its destructor find the rest alive.
  engine::http::client client_;

  void log(const std::string& line) const {
    if (hooks_.log) hooks_.log("websub subscriber: " + line);
  }

  std::string callback(std::string_view source) const {
    return options_.base_url + "/websub/" + std::string(source);
  }

  void kick() {
    kicked_ = true;
    wake_cv_.notify_one();
  }

  // "" when the hub may be used.
  std::string check_hub(const std::string& hub) const {
    std::string error;
    auto url = engine::parse_outlet_url(hub, error);
    if (!url) return "hub URL: " + error;
    if (!options_.allow_private_targets)
      if (target_check c = check_host(url->host); !c) return "hub refused: " + c.reason;
    return {};
  }

  milliseconds backoff(std::uint32_t failures) {
    milliseconds d = options_.retry_min;
    for (std::uint32_t i = 1; i < failures && d < options_.retry_max; ++i) d *= 2;
    d = std::min(d, options_.retry_max);
    // +-20%: sources that failed together (one hub down) do not come back together.
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * jitter(rng_)));
  }

  // ---- agenda ----

  void schedule(record& r, time_point at) {
    if (r.wake == at) return;
    if (r.wake != never) agenda_.erase({r.wake, "s" + r.source});
    r.wake = at;
    if (at != never) agenda_.insert({at, "s" + r.source});
  }
  void schedule(leaving& u, time_point at) {
    if (u.wake == at) return;
    if (u.wake != never) agenda_.erase({u.wake, "u" + std::to_string(u.id)});
    u.wake = at;
    if (at != never) agenda_.insert({at, "u" + std::to_string(u.id)});
  }
  void erase_leaving(std::map<std::uint64_t, leaving>::iterator it) {
    schedule(it->second, never);
    leaving_.erase(it);
  }

  // ---- persistence ----

  std::string encode(const record& r) const {
    std::string s = "v=1";
    auto add = [&s](std::string_view k, std::string_view v) {
      s += '&';
      s += k;
      s += '=';
      s += percent_encode(v);
    };
    add("hub", r.hub);
    add("topic", r.topic);
    add("secret", r.secret);
    add("pending", r.pending_secret);
    add("prev", r.prev_secret);
    add("prev_until", std::to_string(to_ms(r.prev_until)));
    add("verified", r.verified ? "1" : "0");
    add("expiry", std::to_string(to_ms(r.expiry)));
    add("lease", std::to_string(r.lease.count()));
    add("pending_request", r.ph != phase::idle ? "1" : "0");
    add("next_try", std::to_string(to_ms(r.next_try)));
    add("failures", std::to_string(r.failures));
    add("denied", r.denied ? "1" : "0");
    add("error", r.last_error);
    return s;
  }

  static std::optional<record> decode(const std::string& source, std::string_view s) {
    using routes::query_param;
    if (query_param(s, "v") != "1" || !valid_source_id(source)) return std::nullopt;
    record r;
    r.source = source;
    r.hub = query_param(s, "hub");
    r.topic = query_param(s, "topic");
    if (r.hub.empty() || r.topic.empty()) return std::nullopt;
    r.secret = query_param(s, "secret");
    r.pending_secret = query_param(s, "pending");
    r.prev_secret = query_param(s, "prev");
    r.prev_until = from_ms(number(query_param(s, "prev_until")));
    r.verified = query_param(s, "verified") == "1";
    r.expiry = from_ms(number(query_param(s, "expiry")));
    r.lease = seconds(number(query_param(s, "lease")));
    r.ph = query_param(s, "pending_request") == "1" ? phase::verifying : phase::idle;
    r.next_try = from_ms(number(query_param(s, "next_try")));
    r.failures = static_cast<std::uint32_t>(number(query_param(s, "failures")));
    r.denied = query_param(s, "denied") == "1";
    r.last_error = query_param(s, "error");
    return r;
  }

  // Queued to the store's writer under our lock, so two changes of one record are written in
  // the order they were made (the write itself never blocks).
  void persist(const record& r) { db_.write({engine::kv_put{std::string(kv_namespace), r.source, encode(r)}}); }

  // ---- the state machine (all under mutex_) ----

  // Queues set_pushed when "verified, unexpired and not quiet" changed since it was last told.
  void settle(record& r, time_point now) {
    bool active = r.verified && now < r.expiry && !r.quiet;
    if (active == r.pushed) return;
    r.pushed = active;
    notify_.emplace_back(r.source, active);
  }

  void fail(record& r, time_point now, std::string error) {
    ++r.failures;
    ++counters_.subscribe_failures;
    r.next_try = now + backoff(r.failures);
    log(r.source + ": subscribing at " + r.hub + " failed (" + error + "); attempt " + std::to_string(r.failures) +
        ", next in " + std::to_string(duration_cast<seconds>(r.next_try - now).count()) + " s");
    r.last_error = std::move(error);
    persist(r);
  }

  void post_subscribe(record& r) {
    r.pending_secret = fresh_secret();
    r.ph = phase::posting;
    r.request = next_id_++;
    std::string body = "hub.mode=subscribe&hub.topic=" + percent_encode(r.topic) +
                       "&hub.callback=" + percent_encode(callback(r.source)) + "&hub.secret=" + r.pending_secret +
                       "&hub.lease_seconds=" + std::to_string(options_.lease.count());
    outbox_.push_back({request_to(r.hub, std::move(body)), r.source, r.request, false});
    ++counters_.subscribe_requests;
    persist(r);  // the pending secret: a verification or delivery after a restart still finds it
  }

  void post_unsubscribe(leaving& u) {
    u.ph = phase::posting;
    u.request = next_id_++;
    std::string body = "hub.mode=unsubscribe&hub.topic=" + percent_encode(u.topic) +
                       "&hub.callback=" + percent_encode(callback(u.source));
    outbox_.push_back({request_to(u.hub, std::move(body)), std::to_string(u.id), u.request, true});
    ++counters_.unsubscribe_requests;
  }

  engine::http::request request_to(const std::string& hub, std::string body) const {
    engine::http::request req;
    req.method = engine::http::method::post;
    req.url = hub;
    req.headers = {"Content-Type: application/x-www-form-urlencoded", "User-Agent: " + options_.user_agent};
    req.body = std::make_shared<const std::string>(std::move(body));
    req.timeout = options_.request_timeout;
    return req;
  }

  void step(record& r, time_point now) {
    if (!r.refused.empty()) {
      settle(r, now);
      schedule(r, never);
      return;
    }
    if (r.verified && now >= r.expiry) {
      r.verified = false;
      ++counters_.lapsed;
      log(r.source + ": the lease at " + r.hub + " lapsed; polling again");
      if (r.ph == phase::idle) r.next_try = now;
      persist(r);
    }
    if (r.ph == phase::verifying && now >= r.verify_deadline) {
      r.ph = phase::idle;
      fail(r, now, "no verification from the hub within " + std::to_string(options_.verify_wait.count()) + " ms");
    }
    if (r.ph == phase::idle && now >= r.next_try) post_subscribe(r);
    settle(r, now);
    time_point at = never;
    if (r.verified) at = std::min(at, r.expiry);
    if (r.ph == phase::verifying) at = std::min(at, r.verify_deadline);
    if (r.ph == phase::idle) at = std::min(at, r.next_try);
    schedule(r, at);
  }

  void step(std::map<std::uint64_t, leaving>::iterator it, time_point now) {
    leaving& u = it->second;
    if (u.ph == phase::verifying && now >= u.verify_deadline) {  // the hub never verified: its lease ends it
      erase_leaving(it);
      return;
    }
    if (u.ph == phase::idle && now >= u.next_try) {
      if (u.attempts >= options_.unsubscribe_attempts) {
        log(u.source + ": gave up unsubscribing from " + u.topic + " at " + u.hub);
        erase_leaving(it);
        return;
      }
      ++u.attempts;
      post_unsubscribe(u);
    }
    schedule(u, u.ph == phase::verifying ? u.verify_deadline : u.ph == phase::idle ? u.next_try : never);
  }

  // A record's hub/topic pair is given up: unsubscribe if the hub may hold a subscription.
  void retire(record& r, time_point now) {
    schedule(r, never);
    if (!r.refused.empty() || (!r.verified && r.ph == phase::idle)) return;
    if (leaving_.size() >= options_.max_unsubscribes) erase_leaving(leaving_.begin());
    leaving u;
    u.id = next_id_++;
    u.source = r.source;
    u.hub = r.hub;
    u.topic = r.topic;
    u.next_try = now;
    auto [it, _] = leaving_.emplace(u.id, std::move(u));
    step(it, now);
  }

  void on_response(const std::string& key, std::uint64_t request, bool unsubscribe, engine::http::response resp) {
    std::lock_guard lock(mutex_);
    if (quit_) return;
    bool ok = resp.status >= 200 && resp.status < 300;
    auto now = wall::now();
    if (unsubscribe) {
      auto it = leaving_.find(static_cast<std::uint64_t>(number(key)));
      if (it == leaving_.end() || it->second.ph != phase::posting || it->second.request != request) return;
      leaving& u = it->second;
      if (ok) {
        u.ph = phase::verifying;
        u.verify_deadline = now + options_.verify_wait;
      } else {
        u.ph = phase::idle;
        u.next_try = now + backoff(u.attempts);
      }
      step(it, now);
    } else {
      auto it = records_.find(key);
      // Replaced (new hub or topic), or verified already (a hub that verifies before it answers).
      if (it == records_.end() || it->second.ph != phase::posting || it->second.request != request) return;
      record& r = it->second;
      if (ok) {
        r.ph = phase::verifying;
        r.verify_deadline = now + options_.verify_wait;
      } else {
        r.ph = phase::idle;
        fail(r, now, describe(resp));
      }
      step(r, now);
    }
    kick();
  }

  // ---- the timer thread ----

  void run() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
      auto now = wall::now();
      while (!agenda_.empty() && agenda_.begin()->first <= now) {
        auto [at, key] = *agenda_.begin();
        agenda_.erase(agenda_.begin());
        if (key[0] == 's') {
          auto it = records_.find(key.substr(1));
          if (it == records_.end() || it->second.wake != at) continue;
          it->second.wake = never;
          step(it->second, now);
        } else {
          auto it = leaving_.find(static_cast<std::uint64_t>(number(std::string_view(key).substr(1))));
          if (it == leaving_.end() || it->second.wake != at) continue;
          it->second.wake = never;
          step(it, now);
        }
      }
      std::vector<responder> late;
      time_point next = now + std::chrono::hours(1);
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->second.deadline <= now) {
          late.push_back(std::move(it->second.answer));
          it = waiting_.erase(it);
        } else {
          next = std::min(next, it->second.deadline);
          ++it;
        }
      }
      if (!late.empty() || !notify_.empty() || !outbox_.empty()) {
        auto notes = std::move(notify_);
        notify_.clear();
        auto sends = std::move(outbox_);
        outbox_.clear();
        lock.unlock();
        for (auto& a : late) a.send(server_response(202));  // still being ingested: taken
        for (auto& [source, active] : notes)
          if (hooks_.set_pushed) hooks_.set_pushed(source, active);
        for (auto& o : sends) send(std::move(o));
        lock.lock();
        continue;
      }
      if (!agenda_.empty()) next = std::min(next, agenda_.begin()->first);
      kicked_ = false;
      wake_cv_.wait_for(lock, next - now, [this] { return quit_ || kicked_; });
    }
  }

  void send(outgoing o) {
    client_.send(std::move(o.req), [self = this, key = std::move(o.key), request = o.request,
                                    unsubscribe = o.unsubscribe](engine::http::response resp) {
      self->on_response(key, request, unsubscribe, std::move(resp));
    });
  }

  // ---- the callback ----

  server_response verify(std::string_view source, const server_request& req) {
    using routes::query_param;
    std::string_view q = req.query();
    std::string mode = query_param(q, "hub.mode");
    std::string topic = query_param(q, "hub.topic");
    bool has_challenge = false;
    std::string challenge = query_param(q, "hub.challenge", &has_challenge);
    std::lock_guard lock(mutex_);
    auto now = wall::now();
    auto refuse = [this] {
      ++counters_.verifications_refused;
      return server_response::error(404, "no such subscription");
    };
    auto it = records_.find(std::string(source));
    if (mode == "subscribe") {
      if (!has_challenge || challenge.empty() || it == records_.end()) return refuse();
      record& r = it->second;
      if (r.topic != topic || !r.refused.empty() || (r.ph == phase::idle && !r.verified)) return refuse();
      // Active and nothing asked: yes, we want it, but the lease we keep is the one our own
      // request was verified with. Anyone who knows the topic can send this GET; taking its
      // hub.lease_seconds would let them stretch our idea of the lease past the hub's (no
      // renewal in time) or shrink it (a renewal storm).
      if (r.ph == phase::idle) return server_response(200, challenge, "text/plain");
      seconds lease = options_.lease;
      bool has_lease = false;
      std::string text = query_param(q, "hub.lease_seconds", &has_lease);
      if (has_lease) lease = seconds(std::clamp<std::int64_t>(number(text, options_.lease.count()), 1, 366LL * 86400));
      if (r.ph != phase::idle && !r.pending_secret.empty()) {
        if (!r.secret.empty() && r.secret != r.pending_secret) {
          r.prev_secret = r.secret;
          r.prev_until = now + options_.secret_grace;
        }
        r.secret = std::move(r.pending_secret);
        r.pending_secret.clear();
      }
      bool renewal = r.verified;
      r.ph = phase::idle;
      r.verified = true;
      r.lease = lease;
      r.expiry = now + lease;
      auto renew_in = duration_cast<milliseconds>(lease * options_.renew_fraction);
      r.next_try = now + std::max(renew_in, milliseconds(500));
      r.failures = 0;
      r.denied = false;
      r.last_error.clear();
      ++counters_.verified;
      persist(r);
      step(r, now);
      kick();
      log(r.source + ": " + (renewal ? "renewed" : "subscribed") + " at " + r.hub + " for " +
          std::to_string(lease.count()) + " s");
      return server_response(200, challenge, "text/plain");
    }
    if (mode == "unsubscribe") {
      if (!has_challenge || challenge.empty()) return refuse();
      for (auto u = leaving_.begin(); u != leaving_.end(); ++u) {
        if (u->second.source != source || u->second.topic != topic || u->second.ph == phase::idle) continue;
        log(u->second.source + ": unsubscribed from " + u->second.topic + " at " + u->second.hub);
        erase_leaving(u);
        ++counters_.unsubscribed;
        return server_response(200, challenge, "text/plain");
      }
      return refuse();
    }
    if (mode == "denied") {
      if (it == records_.end() || it->second.topic != topic) return refuse();
      record& r = it->second;
      std::string reason = query_param(q, "hub.reason").substr(0, 300);
      // A denial of a request of ours is honoured (no new request before denied_retry). One
      // that nothing of ours asked for may be anyone's who knows the topic: the subscription
      // ends all the same (the hub may have cancelled it), but a new request goes out at once,
      // so a forged denial costs one request, a real one is repeated to that request.
      bool asked = r.ph != phase::idle;
      r.verified = false;
      r.denied = asked;
      r.ph = phase::idle;
      r.last_error = "denied by the hub" + std::string(asked ? "" : " (unasked: subscribing again to confirm)") +
                     (reason.empty() ? std::string() : ": " + reason);
      r.next_try = asked ? now + options_.denied_retry : now;
      ++counters_.denied;
      persist(r);
      step(r, now);
      kick();
      log(r.source + ": " + r.last_error + " (" + r.hub + "); polling");
      return server_response(200, "", "text/plain");
    }
    return refuse();
  }

  // Dropped deliveries are logged at most once per 10 s (a hostile hub cannot flood the log).
  void log_drop(std::string_view source, std::string_view why, time_point now) {
    if (now - last_drop_log_ < seconds(10)) return;
    last_drop_log_ = now;
    log(std::string(source) + ": delivery dropped (" + std::string(why) + "); " +
        std::to_string(counters_.unsigned_deliveries) + " unsigned and " + std::to_string(counters_.bad_signatures) +
        " badly signed so far");
  }

  void deliver(std::string_view source, server_request&& req, const responder& answer) {
    std::string signature(req.header("x-hub-signature"));
    std::vector<std::string> secrets;
    auto now = wall::now();
    std::optional<server_response> reply;  // sent after the lock is released
    {
      std::lock_guard lock(mutex_);
      auto it = records_.find(std::string(source));
      if (it == records_.end()) {
        ++counters_.unknown_deliveries;
        reply = server_response::error(410, "no subscription for this source");
      } else if (signature.empty()) {
        ++counters_.unsigned_deliveries;
        log_drop(source, "no X-Hub-Signature", now);
        reply = server_response(202);  // WebSub: 2xx, and the content is ignored
      } else {
        const record& r = it->second;
        if (!r.secret.empty()) secrets.push_back(r.secret);
        if (!r.prev_secret.empty() && now < r.prev_until) secrets.push_back(r.prev_secret);
      }
    }
    if (reply) {
      answer.send(std::move(*reply));
      return;
    }
    // Outside the lock: a large body's HMAC holds up nobody else.
    bool good = std::any_of(secrets.begin(), secrets.end(),
                            [&](const std::string& s) { return verify_hub_signature(s, req.body, signature); });
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      if (!good) {
        ++counters_.bad_signatures;
        log_drop(source, "X-Hub-Signature does not match", now);
        reply = server_response(202);
      } else if (quit_ || !hooks_.ingest) {
        reply = server_response::error(503, "the subscriber is stopping");
      } else {
        auto it = records_.find(std::string(source));
        if (it != records_.end()) {
          record& r = it->second;
          r.last_delivery = now;
          if (r.quiet) {  // it delivers again: pushed again
            r.quiet = false;
            log(r.source + ": the hub at " + r.hub + " delivers again");
            settle(r, now);
          }
        }
        ++counters_.deliveries;
        id = next_id_++;
        waiting_.emplace(id, waiting{now + options_.ingest_wait, answer});
        kick();
      }
    }
    if (reply) {
      answer.send(std::move(*reply));
      return;
    }
    std::string type(req.header("content-type"));
    std::weak_ptr<impl> self = weak_from_this();
    hooks_.ingest(std::string(source), std::move(req.body), std::move(type), [self, id, answer](bool ok) {
      if (auto s = self.lock()) {
        std::lock_guard lock(s->mutex_);
        s->waiting_.erase(id);
        if (!ok) ++s->counters_.ingest_failed;
      }
      answer.send(ok ? server_response(202)
                     : server_response::error(503, "the content could not be taken now").set("Retry-After", "60"));
    });
  }

  websub_subscription_status status_of(const record& r, time_point now) const {
    websub_subscription_status s;
    s.source = r.source;
    s.hub = r.hub;
    s.topic = r.topic;
    bool active = r.verified && now < r.expiry;
    if (!r.refused.empty()) s.state = "refused";
    else if (active && r.quiet) s.state = "quiet";
    else if (active) s.state = r.ph == phase::idle ? "active" : "renewing";
    else if (r.ph == phase::posting) s.state = "subscribing";
    else if (r.ph == phase::verifying) s.state = "verifying";
    else if (r.denied) s.state = "denied";
    else s.state = "retrying";
    if (r.verified) s.expiry = r.expiry;
    s.lease = r.lease;
    s.failures = r.failures;
    s.last_error = r.refused.empty() ? r.last_error : r.refused;
    s.last_delivery = r.last_delivery;
    s.pushed = r.pushed;
    return s;
  }
};

// ---- the public face --------------------------------------------------------------------------

websub_subscriber::websub_subscriber(engine::store& db, websub_subscriber_options options, websub_hooks hooks)
    : impl_(std::make_shared<impl>(db, std::move(options), std::move(hooks))) {
  impl_->timer_ = std::thread([p = impl_.get()] { p->run(); });
}

websub_subscriber::~websub_subscriber() { stop(); }

void websub_subscriber::stop() {
  std::vector<responder> late;
  {
    std::lock_guard lock(impl_->mutex_);
    impl_->quit_ = true;
    impl_->wake_cv_.notify_all();
    for (auto& [id, w] : impl_->waiting_) late.push_back(std::move(w.answer));
    impl_->waiting_.clear();
  }
  if (impl_->timer_.joinable()) impl_->timer_.join();
  impl_->client_.stop();
  for (auto& a : late) a.send(server_response(202));
}

std::string websub_subscriber::load(const std::function<bool(const std::string& source)>& known) {
  impl& m = *impl_;
  std::vector<impl::record> loaded;
  std::string after;
  for (std::size_t page = 0; page <= m.options_.max_subscriptions / 1000 + 1; ++page) {
    auto got = m.db_.kv_list(kv_namespace, after, 1000);
    if (!got.ok()) return got.status.message;
    for (const auto& e : got.value)
      if (auto r = impl::decode(e.key, e.value)) loaded.push_back(std::move(*r));
    if (got.value.size() < 1000) break;
    after = got.value.back().key;
  }
  std::lock_guard lock(m.mutex_);
  auto now = wall::now();
  for (auto& r : loaded) {
    if (m.records_.size() >= m.options_.max_subscriptions) break;
    if (m.records_.count(r.source)) continue;  // advertised again since the start: newer
    if (known && !known(r.source)) {
      m.retire(r, now);
      m.db_.write({engine::kv_erase{std::string(kv_namespace), r.source}});
      continue;
    }
    r.refused = m.check_hub(r.hub);  // the settings may have changed
    // A request pending at the stop: its verification may still come.
    if (r.ph != impl::phase::idle) r.verify_deadline = now + m.options_.verify_wait;
    auto [it, _] = m.records_.emplace(r.source, std::move(r));
    m.step(it->second, now);
  }
  m.kick();
  return {};
}

void websub_subscriber::hub_advertised(const std::string& source_id, const std::string& topic, const std::string& hub) {
  if (!valid_source_id(source_id) || topic.empty() || hub.empty() || topic.size() > max_url_bytes ||
      hub.size() > max_url_bytes)
    return;
  impl& m = *impl_;
  std::lock_guard lock(m.mutex_);
  if (m.quit_) return;
  auto it = m.records_.find(source_id);
  // Unchanged (the common case, every poll): a failing or denied one waits for its own retry.
  if (it != m.records_.end() && it->second.topic == topic && it->second.hub == hub) return;
  if (it == m.records_.end() && m.records_.size() >= m.options_.max_subscriptions) {
    ++m.counters_.over_limit;
    return;
  }
  auto now = wall::now();
  bool was_pushed = false;
  if (it != m.records_.end()) {
    was_pushed = it->second.pushed;
    m.retire(it->second, now);
    m.records_.erase(it);
  }
  impl::record r;
  r.source = source_id;
  r.hub = hub;
  r.topic = topic;
  r.pushed = was_pushed;  // settle() tells the poller if that ends
  r.next_try = now;
  r.refused = m.check_hub(hub);
  if (!r.refused.empty()) {
    ++m.counters_.refused_hubs;
    m.log(source_id + ": " + r.refused);
  }
  auto [ins, _] = m.records_.emplace(source_id, std::move(r));
  m.persist(ins->second);
  m.step(ins->second, now);
  m.kick();
}

void websub_subscriber::source_gone(const std::string& source_id) {
  impl& m = *impl_;
  std::lock_guard lock(m.mutex_);
  auto it = m.records_.find(source_id);
  if (it == m.records_.end()) return;
  m.retire(it->second, wall::now());
  m.records_.erase(it);
  m.db_.write({engine::kv_erase{std::string(kv_namespace), source_id}});
  m.kick();
}

void websub_subscriber::hub_missed_items(const std::string& source_id) {
  impl& m = *impl_;
  std::lock_guard lock(m.mutex_);
  auto it = m.records_.find(source_id);
  if (m.quit_ || it == m.records_.end()) return;
  impl::record& r = it->second;
  auto now = wall::now();
  if (!r.verified || now >= r.expiry || r.quiet) return;
  r.quiet = true;
  ++m.counters_.quiet;
  m.log(r.source + ": a poll found items the hub at " + r.hub + " never pushed; polling again and subscribing anew");
  if (r.ph == impl::phase::idle) r.next_try = now;  // a fresh subscription may mend it
  m.step(r, now);
  m.kick();
}

void websub_subscriber::handle(std::string_view source_id, server_request&& request, responder answer) {
  if (!valid_source_id(source_id)) {
    {
      std::lock_guard lock(impl_->mutex_);
      ++(request.method == "GET" ? impl_->counters_.verifications_refused : impl_->counters_.unknown_deliveries);
    }
    answer.send(server_response::error(404, "no such subscription"));
    return;
  }
  if (request.method == "GET") {
    answer.send(impl_->verify(source_id, request));
    return;
  }
  if (request.method == "POST") {
    impl_->deliver(source_id, std::move(request), answer);
    return;
  }
  answer.send(server_response::error(405, "a WebSub callback takes GET and POST").set("Allow", "GET, POST"));
}

std::optional<websub_subscription_status> websub_subscriber::status(const std::string& source_id) const {
  std::lock_guard lock(impl_->mutex_);
  auto it = impl_->records_.find(source_id);
  if (it == impl_->records_.end()) return std::nullopt;
  return impl_->status_of(it->second, wall::now());
}

std::vector<websub_subscription_status> websub_subscriber::list() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<websub_subscription_status> out;
  auto now = wall::now();
  for (const auto& [id, r] : impl_->records_) out.push_back(impl_->status_of(r, now));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.source < b.source; });
  return out;
}

websub_subscriber_counters websub_subscriber::counters() const {
  std::lock_guard lock(impl_->mutex_);
  websub_subscriber_counters c = impl_->counters_;
  auto now = wall::now();
  c.subscriptions = impl_->records_.size();
  c.active = 0;
  for (const auto& [id, r] : impl_->records_) c.active += r.verified && now < r.expiry;
  return c;
}

void websub_subscriber::add_metrics(metrics_registry& registry) const {
  registry.add_collector([this](metrics_writer& w) {
    auto c = counters();
    w.gauge("syndic_websub_client_subscriptions", "Sources with a hub (any state).", static_cast<double>(c.subscriptions));
    w.gauge("syndic_websub_client_active", "Hub subscriptions verified and unexpired.", static_cast<double>(c.active));
    w.counter("syndic_websub_client_subscribe_requests_total", "Subscribe requests sent to hubs.", c.subscribe_requests);
    w.counter("syndic_websub_client_subscribe_failures_total", "Subscribe attempts that failed.", c.subscribe_failures);
    w.counter("syndic_websub_client_verified_total", "Subscriptions verified (renewals included).", c.verified);
    w.counter("syndic_websub_client_denied_total", "Subscriptions denied by hubs.", c.denied);
    w.counter("syndic_websub_client_lapsed_total", "Leases that lapsed unrenewed.", c.lapsed);
    w.counter("syndic_websub_client_quiet_total", "Subscriptions whose hub missed items a poll found.", c.quiet);
    w.counter("syndic_websub_client_deliveries_total", "Correctly signed bodies taken from hubs.", c.deliveries);
    w.header("syndic_websub_client_dropped_total", "counter", "Deliveries answered 2xx and dropped, by reason.");
    w.sample("syndic_websub_client_dropped_total", {{"reason", "unsigned"}}, c.unsigned_deliveries);
    w.sample("syndic_websub_client_dropped_total", {{"reason", "bad_signature"}}, c.bad_signatures);
  });
}

std::string websub_subscriber::callback_url(std::string_view source_id) const { return impl_->callback(source_id); }

}  // namespace syndic::daemon
