#include "testkit/feeds_hub.hpp"

#include <syndic/engine/signer.hpp>

#include "formats/src/text.hpp"


#include <charconv>
#include <cmath>
#include <memory>
#include <random>

namespace syndic::testkit::detail {

using engine::http::server_request;
using engine::http::server_response;
using clock_type = std::chrono::system_clock;

namespace {

constexpr unsigned max_pings_in_flight = 8;
constexpr std::size_t max_secret_bytes = 199;  // WebSub: under 200 bytes
constexpr std::size_t max_callback_bytes = 2048;
constexpr std::int64_t default_lease_seconds = 86'400;
constexpr std::int64_t max_lease_seconds = 30 * 86'400;

// Percent-encodes all but RFC 3986's unreserved characters (a URL as a form value).
std::string encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string challenge() {
  // On the heap: a thread_local engine (5 KB) would be in every thread's static TLS block,
  // allocated and cleared at each start of every syndic command and thread.
  thread_local std::unique_ptr<std::mt19937_64> rng;
  if (!rng) rng = std::make_unique<std::mt19937_64>(std::random_device{}());
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>((*rng)()),
                static_cast<unsigned long long>((*rng)()));
  return buf;
}

engine::http::client_options client_options_for_hub() {
  engine::http::client_options o;
  o.max_host_connections = 16;  // deliveries to one subscriber host at once
  return o;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now().time_since_epoch()).count();
}

}  // namespace

std::optional<std::string> form_value(std::string_view body, std::string_view name) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto decode = [&](std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') out += ' ';
      else if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
        i += 2;
      } else out += raw[i];
    }
    return out;
  };
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    auto eq = pair.find('=');
    if (decode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

struct feeds_hub::subscription {
  std::string topic, callback, secret;
  std::size_t feed = 0;
  std::string state = "pending";  // pending, active, unverified, unsubscribed (expired: by lease)
  std::int64_t lease_seconds = 0;
  std::int64_t expiry_ms = 0;
  std::uint64_t deliveries = 0, failures = 0, bad_signatures = 0;
  int last_status = 0;  // the callback's last answer (verification or delivery); 0: none
  bool in_flight = false, dirty = false;

  bool active(std::int64_t now) const { return state == "active" && now < expiry_ms; }
};

feeds_hub::feeds_hub(feeds_hub_options options, std::size_t feed_count,
                     std::function<std::optional<std::size_t>(std::string_view)> topic_of,
                     std::function<std::string(std::size_t)> self_of, std::function<hub_topic(std::size_t)> current)
    : options_(std::move(options)),
      topic_of_(std::move(topic_of)),
      self_of_(std::move(self_of)),
      current_(std::move(current)),
      client_(client_options_for_hub()),
      ping_queued_(feed_count, false),
      by_feed_(feed_count) {}

feeds_hub::~feeds_hub() { stop(); }

void feeds_hub::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  client_.stop();
}

feeds_hub_counters feeds_hub::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void feeds_hub::changed(std::size_t feed) {
  if (feed >= by_feed_.size()) return;
  if (!options_.external.empty()) {
    std::unique_lock lock(mutex_);
    if (stopped_ || ping_queued_[feed]) return;
    ping_queued_[feed] = true;
    ping_queue_.push_back(feed);
    ping_next_locked(lock);
    return;
  }
  std::vector<std::shared_ptr<subscription>> to_send;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    std::int64_t now = now_ms();
    for (auto& s : by_feed_[feed]) {
      if (!s->active(now)) continue;
      if (s->in_flight) {
        s->dirty = true;
      } else {
        s->in_flight = true;
        to_send.push_back(s);
      }
    }
  }
  for (auto& s : to_send) deliver(std::move(s));
}

void feeds_hub::ping_next_locked(std::unique_lock<std::mutex>& lock) {
  while (!stopped_ && pings_in_flight_ < max_pings_in_flight && !ping_queue_.empty()) {
    std::size_t feed = ping_queue_.front();
    ping_queue_.pop_front();
    ping_queued_[feed] = false;
    ++pings_in_flight_;
    lock.unlock();
    engine::http::request r;
    r.method = engine::http::method::post;
    r.url = options_.external;
    r.timeout = options_.timeout;
    r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    r.body = std::make_shared<const std::string>("hub.mode=publish&hub.url=" + encode(self_of_(feed)));
    client_.send(std::move(r), [this](engine::http::response resp) {
      std::unique_lock l(mutex_);
      --pings_in_flight_;
      ++counters_.pings;
      if (resp.status < 200 || resp.status >= 300) ++counters_.ping_failures;
      ping_next_locked(l);
    });
    lock.lock();
  }
}

bool feeds_hub::next_signature_bad_locked() {
  // Deterministic: delivery d is bad when floor((d + 1) p / 100) passes floor(d p / 100), so
  // exactly p% of any long run are, spread evenly.
  double p = options_.bad_signature_percent;
  auto d = static_cast<double>(signed_++);
  return p > 0 && std::floor((d + 1) * p / 100) > std::floor(d * p / 100);
}

void feeds_hub::deliver(std::shared_ptr<subscription> s) {
  hub_topic t = current_(s->feed);
  engine::http::request r;
  r.method = engine::http::method::post;
  r.url = s->callback;
  r.timeout = options_.timeout;
  r.body = t.body;
  r.headers.push_back("Content-Type: " + t.content_type);
  r.headers.push_back("Link: <" + options_.self_url + ">; rel=\"hub\", <" + s->topic + ">; rel=\"self\"");
  bool bad = false;
  {
    std::lock_guard lock(mutex_);
    if (!s->secret.empty()) {
      bad = next_signature_bad_locked();
      std::string key = bad ? s->secret + "-wrong" : s->secret;
      r.headers.push_back("X-Hub-Signature: " + engine::websub_signature(key, t.body ? *t.body : std::string()));
    }
  }
  client_.send(std::move(r), [this, s, bad](engine::http::response resp) {
    bool again = false;
    {
      std::lock_guard lock(mutex_);
      s->last_status = resp.status;
      ++s->deliveries;
      ++counters_.deliveries;
      if (bad) {
        ++s->bad_signatures;
        ++counters_.bad_signatures;
      }
      if (resp.status < 200 || resp.status >= 300) {
        ++s->failures;
        ++counters_.delivery_failures;
      }
      if (resp.status == 410) s->state = "unsubscribed";  // WebSub: the subscriber is gone
      again = s->dirty && !stopped_ && s->active(now_ms());
      s->dirty = false;
      s->in_flight = again;
    }
    if (again) deliver(s);
  });
}

server_response feeds_hub::handle(const server_request& req) {
  if (req.method != "POST") return server_response::error(405, "the hub takes POST").set("Allow", "POST");
  if (!options_.external.empty()) return server_response::error(404, "this server advertises an external hub");
  if (!req.header("content-type").starts_with("application/x-www-form-urlencoded"))
    return server_response::error(400, "the hub takes application/x-www-form-urlencoded");
  std::string mode = form_value(req.body, "hub.mode").value_or("");
  if (mode == "publish") return server_response(202);  // the feeds are this hub's own: nothing to fetch
  if (mode != "subscribe" && mode != "unsubscribe")
    return server_response::error(400, "hub.mode: subscribe, unsubscribe or publish");
  std::string callback = form_value(req.body, "hub.callback").value_or("");
  std::string topic = form_value(req.body, "hub.topic").value_or("");
  if (callback.empty() || callback.size() > max_callback_bytes) return server_response::error(400, "hub.callback is required (under 2048 bytes)");
  if (!callback.starts_with("http://") && !callback.starts_with("https://"))
    return server_response::error(400, "hub.callback: an http or https URL");
  if (topic.empty()) return server_response::error(400, "hub.topic is required");
  auto feed = topic_of_(topic);
  if (!feed) return server_response::error(404, "hub.topic: not a feed of this server");
  std::string secret = form_value(req.body, "hub.secret").value_or("");
  if (secret.size() > max_secret_bytes) return server_response::error(400, "hub.secret: must be under 200 bytes");
  std::int64_t lease = default_lease_seconds;
  if (auto l = form_value(req.body, "hub.lease_seconds"); l && !l->empty()) {
    auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), lease);
    if (ec != std::errc{} || end != l->data() + l->size() || lease <= 0)
      return server_response::error(400, "hub.lease_seconds: a positive number of seconds");
    lease = std::min(lease, max_lease_seconds);
  }
  std::shared_ptr<subscription> s;
  {
    std::lock_guard lock(mutex_);
    auto key = std::make_pair(topic, callback);
    auto it = subscriptions_.find(key);
    if (it == subscriptions_.end()) {
      if (mode == "unsubscribe") return server_response::error(404, "no such subscription");
      if (subscriptions_.size() >= options_.max_subscriptions) return server_response::error(503, "too many subscriptions");
      s = std::make_shared<subscription>();
      s->topic = topic;
      s->callback = callback;
      s->feed = *feed;
      subscriptions_.emplace(key, s);
      by_feed_[*feed].push_back(s);
    } else {
      s = it->second;
    }
  }
  verify(s, mode, secret, std::chrono::seconds(lease));
  return server_response(202);
}

void feeds_hub::verify(std::shared_ptr<subscription> s, std::string mode, std::string secret, std::chrono::seconds lease) {
  std::string c = challenge();
  engine::http::request get;
  get.method = engine::http::method::get;
  std::string base = s->callback.substr(0, s->callback.find('#'));
  get.url = base + (base.find('?') == std::string::npos ? '?' : '&') + "hub.mode=" + mode + "&hub.topic=" +
            encode(s->topic) + "&hub.challenge=" + c;
  if (mode == "subscribe") get.url += "&hub.lease_seconds=" + std::to_string(lease.count());
  get.timeout = options_.timeout;
  get.max_response_body = 4096;
  client_.send(std::move(get), [this, s, mode, secret = std::move(secret), lease, c](engine::http::response resp) {
    std::lock_guard lock(mutex_);
    s->last_status = resp.status;
    bool ok = resp.status >= 200 && resp.status < 300 && resp.body == c;
    if (!ok) {
      if (s->state == "pending") s->state = "unverified";  // an active one stays as it was
      return;
    }
    if (mode == "unsubscribe") {
      s->state = "unsubscribed";
      return;
    }
    s->state = "active";
    s->secret = secret;
    s->lease_seconds = lease.count();
    s->expiry_ms = now_ms() + lease.count() * 1000;
  });
}

std::string feeds_hub::subscriptions_json() const {
  using formats::detail::append_json_escaped;
  std::string out = "{\"subscriptions\":[";
  std::lock_guard lock(mutex_);
  std::int64_t now = now_ms();
  bool first = true;
  for (const auto& [key, s] : subscriptions_) {
    if (!first) out += ',';
    first = false;
    std::string state = s->state == "active" && !s->active(now) ? "expired" : s->state;
    out += "{\"topic\":\"";
    append_json_escaped(out, s->topic);
    out += "\",\"callback\":\"";
    append_json_escaped(out, s->callback);
    out += "\",\"state\":\"" + state + "\",\"feed\":" + std::to_string(s->feed) +
           ",\"lease_seconds\":" + std::to_string(s->lease_seconds) +
           ",\"lease_expiry_ms\":" + std::to_string(s->expiry_ms) +
           ",\"signed\":" + (s->secret.empty() ? "false" : "true") +
           ",\"deliveries\":" + std::to_string(s->deliveries) + ",\"failures\":" + std::to_string(s->failures) +
           ",\"bad_signatures\":" + std::to_string(s->bad_signatures) +
           ",\"last_status\":" + std::to_string(s->last_status) + "}";
  }
  return out + "]}";
}

}  // namespace syndic::testkit::detail
