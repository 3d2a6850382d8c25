// Fetching a source: the conditional GET, redirects, and what each answer means for the
// schedule. A 200 goes on to the parse workers (poll_ingest.cpp); everything else ends the
// poll here.

#include "formats/src/strings.hpp"
#include "poll/poller_impl.hpp"

#include <algorithm>
#include <cctype>

namespace syndic::poll {

namespace {

constexpr std::size_t max_validator_bytes = 1024;

constexpr std::string_view accept_header =
    "Accept: application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.7, */*;q=0.5";

bool is_http_url(std::string_view url) {
  auto lower_starts = [&](std::string_view p) {
    if (url.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != p[i]) return false;
    return true;
  };
  return lower_starts("http://") || lower_starts("https://");
}

// Error text for a person, without the URL's userinfo (a credential).
std::string describe_failure(const engine::http::response& r) {
  std::string what(engine::http::describe(r.error));
  if (!r.error_detail.empty()) what = r.error_detail;
  return what.substr(0, 300);
}

}  // namespace

std::string host_key(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string key;
  key.reserve(scheme.size() + 3 + rest.size() + 4);
  for (char c : scheme) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  key += "://";
  for (char c : rest) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view after_host = rest;
  if (!rest.empty() && rest.front() == '[') after_host = rest.substr(std::min(rest.find(']'), rest.size()));
  bool has_port = after_host.find(':') != std::string_view::npos;
  if (!has_port && (scheme == "http" || scheme == "https")) key += scheme == "http" ? ":80" : ":443";
  return key;
}

void poller::impl::begin_fetch_locked(source_entry& e) {
  std::string url = e.st.url.empty() ? e.def.url : e.st.url;
  std::string id = e.def.id;
  auto self = shared_from_this();
  if (url.starts_with("file://")) {
    // Read on a parse worker: a file never blocks the schedule thread.
    parse_job job;
    job.id = id;
    job.generation = e.generation;
    job.def = e.def;
    job.final_url = url;
    job.previous_hash = e.st.body_hash;
    job.seen = std::move(e.seen);
    job.from_file = true;  // the worker reads it (poll_ingest.cpp)
    job.started = std::chrono::system_clock::now();
    parse_queue.push_back(std::move(job));
    parse_wake.notify_one();
    return;
  }
  fetch(id, e.generation, e.def, url, e.st.etag, e.st.last_modified, 0, true, {});
}

void poller::impl::fetch(std::string id, std::uint64_t generation, source def, std::string url, std::string etag,
                         std::string last_modified, std::uint32_t hops, bool all_permanent,
                         std::vector<std::string> visited) {
  engine::http::request r;
  r.method = engine::http::method::get;
  r.url = url;
  r.timeout = options.timeout;
  r.max_response_body = options.max_body_bytes;
  r.keep_headers = true;
  r.decode_content = true;
  r.headers.reserve(4 + def.headers.size());
  r.headers.emplace_back(accept_header);
  r.headers.push_back("User-Agent: " + options.user_agent);
  if (!etag.empty()) r.headers.push_back("If-None-Match: " + etag);
  if (!last_modified.empty()) r.headers.push_back("If-Modified-Since: " + last_modified);
  // The source's own headers (credentials) go to its own host only, never after a redirect
  // to another one.
  bool same_host = visited.empty() || host_key(url) == host_key(visited.front());
  if (same_host)
    for (auto& [name, value] : def.headers) r.headers.push_back(name + ": " + value);
  engine::http::client& c = (def.origin == "api" && public_client) ? *public_client : *trusted_client;
  auto self = shared_from_this();
  c.send(std::move(r), [self, id = std::move(id), generation, def = std::move(def), url, hops, all_permanent,
                        visited = std::move(visited)](engine::http::response resp) mutable {
    self->on_answer(std::move(id), generation, std::move(def), std::move(url), hops, all_permanent,
                    std::move(visited), std::move(resp));
  });
}

void poller::impl::fail_poll(const std::string& id, std::uint64_t generation, std::uint16_t status, std::string error,
                             poll_observation::kind kind, std::optional<sys_time> retry_after) {
  std::lock_guard lock(mu);
  if (stopping) return;
  source_entry* e = find_locked(id, generation);
  if (!e) return;
  poll_observation obs;
  obs.now = std::chrono::system_clock::now();
  obs.outcome = kind;
  obs.retry_after = retry_after;
  e->st.last_status = status;
  e->st.last_error = std::move(error);
  ++e->st.polls;
  ++e->st.errors;
  ++totals.polls;
  ++totals.errors;
  finish_poll_locked(*e, obs);
}

void poller::impl::on_answer(std::string id, std::uint64_t generation, source def, std::string url,
                             std::uint32_t hops, bool all_permanent,
                             std::vector<std::string> visited, engine::http::response r) {
  auto now = std::chrono::system_clock::now();
  using kind = poll_observation::kind;
  const std::string& first_url = visited.empty() ? url : visited.front();
  auto release = [&] {
    std::lock_guard lock(mu);
    auto it = sources.find(id);
    if (it != sources.end() && !it->second.gate.empty()) {
      release_host_locked(it->second.gate);
      it->second.gate.clear();
    } else if (it == sources.end()) {
      release_host_locked(host_key(first_url));  // removed meanwhile: its gate was its URL's host
    }
  };
  if (r.status == 0) {
    release();
    if (r.local_failure && stopping) return;
    fail_poll(id, generation, 0, describe_failure(r), kind::error, std::nullopt);
    return;
  }
  int s = r.status;
  if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
    std::string next = r.location;
    visited.push_back(url);
    std::string why;
    if (next.empty()) why = "HTTP " + std::to_string(s) + " without a Location";
    else if (!is_http_url(next)) why = "redirect to a URL that is not http(s)";
    else if (std::find(visited.begin(), visited.end(), next) != visited.end()) why = "redirect loop";
    else if (hops + 1 > options.max_redirects)
      why = "more than " + std::to_string(options.max_redirects) + " redirects";
    if (!why.empty()) {
      release();
      fail_poll(id, generation, static_cast<std::uint16_t>(s), why, kind::error, std::nullopt);
      return;
    }
    bool permanent = all_permanent && (s == 301 || s == 308);
    // Validators belong to the URL they came from: none for another URL.
    fetch(std::move(id), generation, std::move(def), std::move(next), {}, {}, hops + 1, permanent, std::move(visited));
    return;
  }
  release();
  if (s == 304) {
    std::lock_guard lock(mu);
    if (stopping) return;
    source_entry* e = find_locked(id, generation);
    if (!e) return;
    poll_observation obs;
    obs.now = now;
    obs.outcome = kind::not_modified;
    if (auto ma = parse_max_age(r.cache_control)) obs.max_age = ma;
    e->st.last_status = 304;
    e->st.last_error.clear();
    ++e->st.polls;
    ++e->st.not_modified;
    ++totals.polls;
    ++totals.not_modified;
    for (auto& h : r.headers)
      if (!obs.max_age && formats::detail::ascii_iequals(h.name, "expires")) obs.expires = parse_http_date(h.value);
    finish_poll_locked(*e, obs);
    return;
  }
  if (s == 410) {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      source_entry* e = find_locked(id, generation);
      if (!e) return;
      e->polling = false;
      e->st.gone = true;
      e->st.last_status = 410;
      e->st.last_error = "410 Gone: the source is disabled until its definition changes or it is polled by hand";
      e->st.last_poll = now;
      ++e->st.polls;
      ++e->st.errors;
      ++totals.polls;
      ++totals.errors;
      persist_locked(*e);
    }
    // Outside the lock: the listener may call us back (set_pushed).
    if (hubs) hubs->source_gone(id);
    return;
  }
  if (s == 429 || s == 503) {
    fail_poll(id, generation, static_cast<std::uint16_t>(s), "HTTP " + std::to_string(s), kind::throttled,
              parse_retry_after(r.retry_after, now));
    return;
  }
  if (s < 200 || s > 299) {
    fail_poll(id, generation, static_cast<std::uint16_t>(s), "HTTP " + std::to_string(s), kind::error, std::nullopt);
    return;
  }
  parse_job job;
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    source_entry* e = find_locked(id, generation);
    if (!e) return;
    job.previous_hash = e->st.body_hash;
    job.seen = std::move(e->seen);
  }
  job.id = std::move(id);
  job.generation = generation;
  job.def = std::move(def);
  job.body = std::move(r.body);
  job.content_type = std::move(r.content_type);
  job.headers = std::move(r.headers);
  // Validators are the server's words, stored and sent back on every poll: an absurdly long
  // one is not kept (that source is then fetched unconditionally, and its body hash still
  // spares the parse).
  if (r.etag.size() <= max_validator_bytes) job.etag = std::move(r.etag);
  if (r.last_modified.size() <= max_validator_bytes) job.last_modified = std::move(r.last_modified);
  job.final_url = url;
  job.permanent_move = !visited.empty() && all_permanent;
  job.started = now;
  // Cache-Control travels as a header for the worker's hints.
  if (!r.cache_control.empty()) job.headers.push_back({"Cache-Control", std::move(r.cache_control)});
  enqueue_parse(std::move(job));
}

}  // namespace syndic::poll
