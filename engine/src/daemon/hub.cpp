#include "daemon/hub.hpp"
#include "daemon/text.hpp"

#include "daemon/api.hpp"
#include "daemon/api_routes.hpp"
#include "daemon/ssrf.hpp"
#include "delivery/ids.hpp"

#include <sys/socket.h>

#include <charconv>
#include <set>
#include <cstdio>
#include <random>

namespace syndic::daemon {

using engine::http::server_request;
using engine::http::server_response;

namespace {

constexpr std::size_t max_secret_bytes = 199;  // WebSub: "less than 200 bytes"
constexpr std::size_t max_callback_bytes = 2048;


std::string challenge() {
  std::random_device rd;
  std::string s;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    s += buf;
  }
  return s;
}

// The channel and format of one of this hub's topics, or false.
bool parse_topic(std::string_view topic, std::string_view base, std::string& channel, engine::payload_format& format) {
  std::string prefix = std::string(base) + "/feeds/";
  if (!topic.starts_with(prefix)) return false;
  std::string_view name = topic.substr(prefix.size());
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view ext = name.substr(dot + 1);
  if (ext == "atom") format = engine::payload_format::atom;
  else if (ext == "rss") format = engine::payload_format::rss;
  else if (ext == "json") format = engine::payload_format::jsonfeed;
  else return false;
  channel = std::string(name.substr(0, dot));
  return valid_channel(channel);
}

}  // namespace

std::string subscription_outlet_id(std::string_view topic, std::string_view callback) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "websub/%016llx",
                static_cast<unsigned long long>(engine::detail::fnv1a(topic, callback)));
  return buf;
}

struct hub::request {
  std::string mode, callback, topic, secret;
  std::chrono::seconds lease{0};
};

hub::hub(engine::store& db, fanout& fan, const run_settings& settings, hub_options options)
    : db_(db), fan_(fan), settings_(settings), options_(std::move(options)), client_([&settings] {
        engine::http::client_options o;
        // A callback's name may resolve inside: every address is checked before connecting.
        if (!settings.allow_private_targets)
          o.refuse_address = [](const sockaddr& a) {
            target_check c = check_address(a);
            return c ? std::string() : c.reason;
          };
        return o;
      }()) {
  auto every = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(settings.lease_min) / 2, std::chrono::milliseconds(500),
      options_.expiry_check);
  options_.expiry_check = every;
  maintenance_ = std::thread([this] { maintain(); });
}

hub::~hub() { stop(); }

void hub::stop() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
    wake_.notify_all();
  }
  if (maintenance_.joinable()) maintenance_.join();
  client_.stop();
}

std::string hub::add_subscription_outlet(const engine::subscription& s) {
  std::string channel;
  engine::payload_format format = engine::payload_format::atom;
  if (!parse_topic(s.topic, options_.base_url, channel, format)) return "not a topic of this hub: " + s.topic;
  engine::outlet_config cfg;
  cfg.id = subscription_outlet_id(s.topic, s.callback);
  cfg.url = s.callback;
  cfg.format = format;
  cfg.secret = s.secret;
  cfg.websub_topic = s.topic;
  cfg.websub_hub = options_.base_url + "/hub";
  cfg.public_only = !settings_.allow_private_targets;  // a stranger's callback
  std::string error = fan_.add_outlet(std::move(cfg), std::move(channel));
  if (error.empty()) {
    std::lock_guard lock(mutex_);
    synced_[subscription_outlet_id(s.topic, s.callback)] = s.secret;
  }
  return error;
}

void hub::sync() {
  auto subs = db_.subscriptions("");
  if (!subs.ok()) return;  // the store is away for now: the next sync will do
  auto now = engine::store_clock::now();
  std::set<std::string> live;
  for (const auto& s : subs.value) {
    if (s.lease_expiry < now) continue;  // maintain() removes it
    std::string id = subscription_outlet_id(s.topic, s.callback);
    live.insert(id);
    bool current;
    {
      std::lock_guard lock(mutex_);
      auto it = synced_.find(id);
      current = it != synced_.end() && it->second == s.secret;
    }
    if (!current) add_subscription_outlet(s);  // a refusal leaves it out of synced_: tried again next time
  }
  std::vector<std::string> ended;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, secret] : synced_)
      if (!live.count(id)) ended.push_back(id);
    for (const auto& id : ended) synced_.erase(id);
    active_ = synced_.size();
  }
  // Ended through another instance, which forgot its progress: here it only leaves the fan-out.
  for (const auto& id : ended) fan_.remove_outlet(id);
}

std::string hub::load() {
  auto subs = db_.subscriptions("");
  if (!subs.ok()) return subs.status.message;
  auto now = engine::store_clock::now();
  std::size_t n = 0;
  for (const auto& s : subs.value) {
    if (s.lease_expiry < now) continue;  // maintain() removes it
    if (add_subscription_outlet(s).empty()) ++n;
  }
  std::lock_guard lock(mutex_);
  active_ = n;
  return {};
}

server_response hub::handle(const server_request& req) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.requests;
  }
  if (req.method != "POST") return server_response::error(405, "the hub takes POST").set("Allow", "POST");
  std::string_view type = req.header("content-type");
  if (!type.starts_with("application/x-www-form-urlencoded"))
    return server_response::error(400, "the hub takes application/x-www-form-urlencoded");
  const std::string& body = req.body;
  using routes::query_param;
  request r;
  r.mode = query_param(body, "hub.mode");
  if (r.mode == "publish") {
    bool topic = false, url = false;
    query_param(body, "hub.topic", &topic);
    query_param(body, "hub.url", &url);
    if (!topic && !url) return server_response::error(400, "hub.mode=publish needs hub.topic or hub.url");
    return server_response(202);
  }
  if (r.mode != "subscribe" && r.mode != "unsubscribe")
    return server_response::error(400, "hub.mode: subscribe, unsubscribe or publish");
  r.callback = query_param(body, "hub.callback");
  r.topic = query_param(body, "hub.topic");
  if (r.callback.empty()) return server_response::error(400, "hub.callback is required");
  if (r.topic.empty()) return server_response::error(400, "hub.topic is required");
  if (r.callback.size() > max_callback_bytes) return server_response::error(400, "hub.callback: too long");
  std::string error;
  auto url = engine::parse_outlet_url(r.callback, error);
  if (!url) return server_response::error(400, "hub.callback: " + error);
  if (!settings_.allow_private_targets) {
    if (target_check c = check_host(url->host); !c)
      return server_response::error(403, "hub.callback refused: " + c.reason);
  }
  std::string channel;
  engine::payload_format format;
  if (!parse_topic(r.topic, options_.base_url, channel, format))
    return server_response::error(400, "hub.topic: not a topic of this hub (" + options_.base_url + "/feeds/CHANNEL.atom|.rss|.json)");
  bool has_secret = false;
  r.secret = query_param(body, "hub.secret", &has_secret);
  if (r.secret.size() > max_secret_bytes) return server_response::error(400, "hub.secret: must be under 200 bytes");
  bool has_lease = false;
  std::string lease = query_param(body, "hub.lease_seconds", &has_lease);
  r.lease = settings_.lease_default;
  if (has_lease && !lease.empty()) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(lease.data(), lease.data() + lease.size(), v);
    if (ec != std::errc() || p != lease.data() + lease.size() || v <= 0)
      return server_response::error(400, "hub.lease_seconds: a positive number of seconds");
    r.lease = std::chrono::seconds(v);
  }
  r.lease = std::clamp(r.lease, settings_.lease_min, settings_.lease_max);
  if (r.mode == "subscribe") {
    std::lock_guard lock(mutex_);
    if (active_ >= options_.max_subscriptions) return server_response::error(503, "the hub has too many subscriptions");
  }
  verify(std::move(r));
  return server_response(202);
}

void hub::verify(request r) {
  std::string c = challenge();
  engine::http::request get;
  get.method = engine::http::method::get;
  std::string base = r.callback.substr(0, r.callback.find('#'));
  get.url = base + (base.find('?') == std::string::npos ? '?' : '&') + "hub.mode=" + r.mode +
            "&hub.topic=" + percent_encode(r.topic) + "&hub.challenge=" + c;
  if (r.mode == "subscribe") get.url += "&hub.lease_seconds=" + std::to_string(r.lease.count());
  get.timeout = options_.verify_timeout;
  get.max_response_body = 4096;
  client_.send(std::move(get), [this, r = std::move(r), c](engine::http::response resp) {
    bool ok = resp.status >= 200 && resp.status < 300 && resp.body == c;
    if (!ok) {
      std::lock_guard lock(mutex_);
      ++counters_.refused_verification;
      return;
    }
    apply(r);
  });
}

void hub::apply(const request& r) {
  std::string id = subscription_outlet_id(r.topic, r.callback);
  if (r.mode == "unsubscribe") {
    fan_.remove_outlet(id, true);
    {
      std::lock_guard lock(mutex_);
      synced_.erase(id);
    }
    db_.write_sync({engine::remove_subscription{r.topic, r.callback}});
    std::lock_guard lock(mutex_);
    ++counters_.verified;
    if (active_ > 0) --active_;
    return;
  }
  engine::subscription s;
  s.topic = r.topic;
  s.callback = r.callback;
  s.secret = r.secret;
  s.created = engine::store_clock::now();
  s.lease_expiry = s.created + r.lease;
  if (!db_.write_sync({engine::put_subscription{s}}).ok()) return;
  auto views = fan_.outlets();
  bool existed = std::any_of(views.begin(), views.end(), [&](const auto& v) { return v.id == id; });
  if (!add_subscription_outlet(s).empty()) return;
  std::lock_guard lock(mutex_);
  ++counters_.verified;
  if (!existed) ++active_;
}

void hub::maintain() {
  std::unique_lock lock(mutex_);
  while (!quit_) {
    wake_.wait_for(lock, options_.expiry_check, [this] { return quit_; });
    if (quit_) return;
    lock.unlock();
    auto subs = db_.subscriptions("");
    std::size_t expired = 0, gone = 0;
    if (subs.ok()) {
      auto now = engine::store_clock::now();
      auto views = fan_.outlets();
      for (const auto& s : subs.value) {
        std::string id = subscription_outlet_id(s.topic, s.callback);
        auto v = std::find_if(views.begin(), views.end(), [&](const auto& x) { return x.id == id; });
        bool retired = v != views.end() && v->retired;  // the subscriber answered 410
        if (s.lease_expiry >= now && !retired) continue;
        fan_.remove_outlet(id, true);
        db_.write_sync({engine::remove_subscription{s.topic, s.callback}});
        (retired ? gone : expired) += 1;
        std::lock_guard synced_lock(mutex_);
        synced_.erase(id);
      }
    }
    lock.lock();
    counters_.expired += expired;
    counters_.ended_by_410 += gone;
    active_ -= std::min(active_, expired + gone);
  }
}

hub_counters hub::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::size_t hub::subscriptions() const {
  std::lock_guard lock(mutex_);
  return active_;
}

}  // namespace syndic::daemon
