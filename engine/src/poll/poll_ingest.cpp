// A fetched (or hub-pushed) body on a parse worker: unchanged bytes end here; otherwise it is
// parsed, its new items found and appended (one idempotent append each), and only once they
// are durable does the source's state move on (validators, body hash, seen identities).

#include "daemon/item_codec.hpp"
#include "formats/src/strings.hpp"
#include "formats/src/text.hpp"
#include "poll/poller_impl.hpp"

#include <syndic/formats/parse.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace syndic::poll {

namespace {

using formats::detail::ascii_iequals;
using formats::detail::trim;

// The links of `Link` header values with the given rel: `<url>; rel="hub", <url2>; rel=self`.
void links_with_rel(const std::vector<engine::http::header_field>& headers, std::string_view rel,
                    std::vector<std::string>& out) {
  for (const auto& h : headers) {
    if (!ascii_iequals(h.name, "link")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      auto open = v.find('<');
      if (open == std::string_view::npos) break;
      auto close = v.find('>', open);
      if (close == std::string_view::npos) break;
      std::string_view url = v.substr(open + 1, close - open - 1);
      v.remove_prefix(close + 1);
      auto next = v.find('<');
      std::string_view params = v.substr(0, next);
      // rel values are a space-separated list, quoted or not.
      auto r = params.find("rel=");
      if (r != std::string_view::npos) {
        std::string_view value = params.substr(r + 4);
        value = value.substr(0, value.find(';'));
        value = trim(value);
        if (!value.empty() && value.front() == '"') value = value.substr(1, value.find('"', 1) - 1);
        value = value.substr(0, value.find(','));
        for (std::size_t pos = 0; pos <= value.size();) {
          auto end = std::min(value.find(' ', pos), value.size());
          if (ascii_iequals(value.substr(pos, end - pos), rel) && out.size() < 8) out.emplace_back(url);
          pos = end + 1;
        }
      }
      if (next == std::string_view::npos) break;
      v.remove_prefix(next);
    }
  }
}

std::optional<std::string> header_value(const std::vector<engine::http::header_field>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (ascii_iequals(h.name, name)) return h.value;
  return std::nullopt;
}

// Tags: "lang:xx" gives a language to items that have none; the rest become categories.
void apply_tags(const source& def, const formats::feed& doc, formats::item& it) {
  for (const std::string& tag : def.tags) {
    std::string_view t = tag;
    std::string_view lang;
    if (t.starts_with("lang:")) lang = t.substr(5);
    else if (t.starts_with("language:")) lang = t.substr(9);
    if (!lang.empty()) {
      if (it.language.empty() && doc.language.empty()) it.language = std::string(lang);
      continue;
    }
    bool has = std::any_of(it.categories.begin(), it.categories.end(),
                           [&](const formats::category& c) { return c.term == t; });
    if (!has) it.categories.push_back({std::string(t), "", ""});
  }
}

// Reads a file:// source, within the size cap.
bool read_file_source(const std::string& url, std::size_t cap, std::string& body, std::string& error) {
  std::string_view rest = std::string_view(url).substr(7);  // after "file://"
  if (rest.starts_with("localhost/")) rest.remove_prefix(9);
  if (rest.empty() || rest.front() != '/') {
    error = "file URL without an absolute path";
    return false;
  }
  std::string path(rest);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (static_cast<std::uint64_t>(st.st_size) > cap) {
    error = engine::http::body_over_cap(cap);
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot be read";
    return false;
  }
  body.resize(static_cast<std::size_t>(st.st_size));
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<std::size_t>(in.gcount()));
  return true;
}

}  // namespace

std::uint64_t stable_hash(std::string_view bytes) {
  // 8 bytes at a time, little-endian, each folded in with a multiply and a rotate: about
  // 1 ns per 8 bytes, and the same value on every run (unlike std::hash).
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t k = 0;
    for (int b = 7; b >= 0; --b) k = (k << 8) | static_cast<unsigned char>(bytes[i + static_cast<std::size_t>(b)]);
    k *= 0x87c37b91114253d5ull;
    k = (k << 31) | (k >> 33);
    h ^= k;
    h = ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
  }
  std::uint64_t tail = 0;
  for (std::size_t b = bytes.size(); b > i; --b) tail = (tail << 8) | static_cast<unsigned char>(bytes[b - 1]);
  h ^= tail * 0x4cf5ad432745937full;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

void poller::impl::enqueue_parse(parse_job job) {
  std::lock_guard lock(mu);
  if (stopping) {
    if (job.pushed_done) job.pushed_done(false);
    return;
  }
  parse_queue.push_back(std::move(job));
  parse_wake.notify_one();
}

void poller::impl::run_worker() {
  for (;;) {
    parse_job job;
    {
      std::unique_lock lock(mu);
      parse_wake.wait(lock, [&] { return stopping || !parse_queue.empty(); });
      if (stopping) return;
      job = std::move(parse_queue.front());
      parse_queue.pop_front();
    }
    ingest(std::move(job));
  }
}

void poller::impl::ingest(parse_job job) {
  using kind = poll_observation::kind;
  auto now = std::chrono::system_clock::now();
  // Gives the seen identities back to the source (a failed poll keeps the previous ones).
  auto give_back_seen = [&](std::unordered_map<std::uint64_t, std::uint64_t>&& seen) {
    std::lock_guard lock(mu);
    if (source_entry* e = find_locked(job.id, job.generation); e && !job.pushed) e->seen = std::move(seen);
  };
  if (job.from_file) {
    std::string error;
    if (!read_file_source(job.final_url, options.max_body_bytes, job.body, error)) {
      give_back_seen(std::move(job.seen));
      fail_poll(job.id, job.generation, 0, error, kind::error, std::nullopt);
      return;
    }
  }
  poll_observation obs;
  obs.now = now;
  if (auto cc = header_value(job.headers, "cache-control")) obs.max_age = parse_max_age(*cc);
  if (!obs.max_age)
    if (auto ex = header_value(job.headers, "expires")) obs.expires = parse_http_date(*ex);

  std::uint64_t hash = stable_hash(job.body);
  if (!job.pushed && hash == job.previous_hash && job.previous_hash != 0) {
    // The same bytes as last time (a server without validators): no parse.
    std::lock_guard lock(mu);
    if (stopping) return;
    source_entry* e = find_locked(job.id, job.generation);
    if (!e) return;
    e->seen = std::move(job.seen);
    e->st.etag = job.etag;
    e->st.last_modified = job.last_modified;
    if (job.permanent_move) {
      e->st.url = job.final_url;
      e->st.defined_url = e->def.url;
      e->host = host_key(job.final_url);
    }
    e->st.last_status = 200;
    e->st.last_error.clear();
    ++e->st.polls;
    ++e->st.unchanged;
    ++totals.polls;
    ++totals.unchanged;
    obs.outcome = kind::not_modified;
    finish_poll_locked(*e, obs);
    return;
  }

  formats::parse_options popts;
  popts.max_bytes = std::max<std::size_t>(options.max_body_bytes, 1);
  formats::parse_result parsed = formats::parse(job.body, popts);
  if (!parsed.value) {
    std::string why = parsed.diagnostics.empty() ? "no feed in the body" : parsed.diagnostics.front().message;
    why = "not a feed: " + why.substr(0, 300);
    if (job.pushed) {
      if (job.pushed_done) job.pushed_done(false);
      return;
    }
    give_back_seen(std::move(job.seen));
    fail_poll(job.id, job.generation, 200, why, kind::error, std::nullopt);
    return;
  }
  formats::feed& doc = *parsed.value;
  if (doc.ttl_minutes) obs.ttl = seconds(static_cast<std::int64_t>(*doc.ttl_minutes) * 60);
  if (doc.update_period_seconds) obs.update_period = seconds(*doc.update_period_seconds);
  obs.skip_hours = doc.skip_hours;
  obs.skip_days = doc.skip_days;

  // WebSub discovery: the HTTP Link header wins over the document's links (spec §4).
  std::vector<std::string> hub_links, self_links;
  links_with_rel(job.headers, "hub", hub_links);
  links_with_rel(job.headers, "self", self_links);
  std::string hub = !hub_links.empty() ? hub_links.front() : (!doc.hubs.empty() ? doc.hubs.front() : "");
  std::string topic = !self_links.empty() ? self_links.front() : (!doc.self_link.empty() ? doc.self_link : job.final_url);

  // New items, oldest first (feeds list the newest first), so the log keeps their order.
  std::unordered_map<std::uint64_t, std::uint64_t> seen_now;
  seen_now.reserve(doc.items.size());
  struct fresh_item {
    std::size_t index;
    item_identity identity;
  };
  std::vector<fresh_item> fresh;
  for (std::size_t i = doc.items.size(); i-- > 0;) {
    item_identity idn = identify(doc.items[i]);
    if (!seen_now.emplace(idn.id_hash, idn.fingerprint).second) continue;  // the same item twice in one document
    auto old = job.seen.find(idn.id_hash);
    bool is_new = old == job.seen.end() || (job.def.republish_updates && old->second != idn.fingerprint);
    if (is_new) fresh.push_back({i, idn});
  }
  std::string channel = job.def.channel.empty() ? "default" : job.def.channel;

  // What happens once every append is done (or at once when there is none).
  struct pending_poll {
    parse_job job;
    std::unordered_map<std::uint64_t, std::uint64_t> seen_now;
    poll_observation obs;
    std::uint64_t hash = 0;
    std::string hub, topic;
    std::atomic<std::size_t> remaining{0};
    std::atomic<std::size_t> added{0};
    std::mutex error_mu;
    std::string error;
  };
  auto pending = std::make_shared<pending_poll>();
  pending->obs = obs;
  pending->hash = hash;
  // A feed names its hub and topic: beyond a URL's reasonable length they are not taken (the
  // subscriber stores both, and sends them to the hub).
  constexpr std::size_t max_hub_url_bytes = 2048;
  if (hub.size() <= max_hub_url_bytes && topic.size() <= max_hub_url_bytes) {
    pending->hub = std::move(hub);
    pending->topic = std::move(topic);
  }
  pending->seen_now = std::move(seen_now);
  std::vector<engine::append_request> appends;
  appends.reserve(fresh.size());
  for (const fresh_item& f : fresh) {
    formats::item it = doc.items[f.index];
    apply_tags(job.def, doc, it);
    engine::append_request ar;
    ar.idempotency_key = idempotency_key(job.def.id, f.identity, job.def.republish_updates);
    ar.entries.push_back(daemon::encode_item(doc, it, channel, job.def.id));
    appends.push_back(std::move(ar));
  }
  pending->job = std::move(job);
  auto self = shared_from_this();
  auto finish = [self, pending] {
    parse_job& j = pending->job;
    std::size_t added = pending->added.load();
    bool failed;
    std::string error;
    {
      std::lock_guard lock(pending->error_mu);
      failed = !pending->error.empty();
      error = pending->error;
    }
    if (j.pushed_done) j.pushed_done(!failed);
    bool stopping;
    {
      std::lock_guard lock(self->mu);
      stopping = self->stopping;
    }
    if (added > 0 && self->on_appended && !stopping) self->on_appended();
    std::string hub_to_tell, topic_to_tell;
    bool hub_missed = false;
    {
      std::lock_guard lock(self->mu);
      source_entry* e = self->find_locked(j.id, j.generation);
      if (!e) return;
      e->st.new_items += added;
      self->totals.new_items += added;
      if (added) e->st.last_new_item = pending->obs.now;
      if (j.pushed) {
        for (auto& [k, v] : pending->seen_now) e->seen[k] = v;
        if (added) self->persist_locked(*e);
        return;
      }
      if (self->stopping) return;
      ++e->st.polls;
      ++self->totals.polls;
      if (failed) {
        // Nothing moves on: the next poll fetches the same bytes again (no validators) and
        // the store drops what was appended already.
        e->seen = std::move(j.seen);
        e->st.last_status = 200;
        e->st.last_error = "store: " + error;
        ++e->st.errors;
        ++self->totals.errors;
        pending->obs.outcome = poll_observation::kind::error;
        self->finish_poll_locked(*e, pending->obs);
        return;
      }
      e->seen = std::move(pending->seen_now);
      e->st.etag = j.etag;
      e->st.last_modified = j.last_modified;
      e->st.body_hash = pending->hash;
      if (j.permanent_move) {
        e->st.url = j.final_url;
        e->st.defined_url = e->def.url;
        e->host = host_key(j.final_url);
      }
      e->st.last_status = 200;
      e->st.last_error.clear();
      ++e->st.changed;
      ++self->totals.changed;
      pending->obs.outcome = poll_observation::kind::changed;
      pending->obs.new_items = static_cast<std::uint32_t>(added);
      if (e->pushed && added > 0) {
        // The hub should have brought these: back to normal polling until it delivers again.
        hub_missed = true;
        e->pushed = false;
      }
      if (!pending->hub.empty() && (pending->hub != e->st.hub || pending->topic != e->st.topic)) {
        e->st.hub = pending->hub;
        e->st.topic = pending->topic;
      }
      if (!e->st.hub.empty()) hub_to_tell = e->st.hub, topic_to_tell = e->st.topic;
      self->finish_poll_locked(*e, pending->obs);
    }
    if (hub_missed && self->hubs) self->hubs->hub_missed_items(j.id);
    if (!hub_to_tell.empty() && self->hubs) self->hubs->hub_advertised(j.id, topic_to_tell, hub_to_tell);
  };
  if (appends.empty()) {
    finish();
    return;
  }
  pending->remaining = appends.size();
  for (auto& ar : appends) {
    db.append(std::move(ar), [pending, finish](engine::store_result<engine::appended> r) {
      if (!r.ok()) {
        std::lock_guard lock(pending->error_mu);
        if (pending->error.empty()) pending->error = r.status.message;
      } else if (!r.value.duplicate) {
        ++pending->added;
      }
      if (--pending->remaining == 0) finish();
    });
  }
}

}  // namespace syndic::poll
