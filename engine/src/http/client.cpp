#include "http/client.hpp"

#include "http/connection_budget.hpp"
#include "http/curl_transport.hpp"
#include "http/h1_transport.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

namespace syndic::engine::http {

namespace asio = boost::asio;

namespace {

// The shards' rule (delivery/shard.cpp): libcurl sends https through a proxy named in these,
// h1 knows no proxies. Read once: the process's environment does not change under it.
bool https_proxy_configured() {
  static const bool configured = [] {
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
      if (const char* v = std::getenv(name); v && *v) return true;
    return false;
  }();
  return configured;
}

response cancelled() {
  response r;
  r.error = transport_error::local;
  r.local_failure = true;
  r.error_detail = "cancelled: the HTTP client stopped";
  return r;
}

}  // namespace

// Everything but `mutex`, `stopping` and the join is touched on the client's thread only.
// The thread holds a reference while it runs, so a client destroyed from one of its own
// callbacks leaves the loop intact until it returns.
struct client::impl {
  explicit impl(client_options o) : options(std::move(o)) {}

  client_options options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<connection_budget> budget;
  std::unique_ptr<h1_transport> h1;
  std::unique_ptr<curl_transport> curl;  // made on the first request that needs it
  std::map<std::uint64_t, completion> pending;  // by id: cancelled in the order sent
  std::uint64_t next_id = 0;

  std::mutex mutex;       // orders send()'s posts against stop()'s
  bool stopping = false;  // under `mutex`
  std::mutex join_mutex;  // two threads stopping at once join once
  std::thread thread;
  std::thread::id thread_id;  // set once, before any other thread can see the client

  void start(request r, completion done) {
    std::uint64_t id = ++next_id;
    pending.emplace(id, std::move(done));
    auto on_done = [this, id](response resp) { finish(id, std::move(resp)); };
    bool https = r.url.size() >= 8 && r.url.compare(0, 8, "https://") == 0;
    if (https && (options.https_via_curl || https_proxy_configured())) {
      if (!curl) {
        transport_options o;
        o.verify_tls = options.verify_tls;
        o.ca_file = options.ca_file;
        o.max_host_connections = options.max_host_connections;
        o.multi_handles = 1;  // a handful of requests: one cache is plenty
        o.budget = budget;
        o.refuse_address = options.refuse_address;
        curl = std::make_unique<curl_transport>(io, std::move(o));
      }
      curl->post(std::move(r), std::move(on_done));
    } else {
      h1->post(std::move(r), std::move(on_done));  // other schemes: h1 refuses them
    }
  }

  void finish(std::uint64_t id, response r) {
    auto it = pending.find(id);
    if (it == pending.end()) return;  // cancelled meanwhile
    completion done = std::move(it->second);
    pending.erase(it);
    done(std::move(r));
  }

  // On the client's thread, as a handler of its own (never inside a transport's callback,
  // whose transport is destroyed here).
  void shutdown() {
    h1.reset();  // requests in flight in a transport never complete: `pending` has them
    curl.reset();
    auto cancelled_ones = std::move(pending);
    pending.clear();
    for (auto& [id, done] : cancelled_ones) done(cancelled());
    work.reset();
    io.stop();
  }
};

client::client(client_options options) : impl_(std::make_shared<impl>(std::move(options))) {
  impl& m = *impl_;
  m.budget = std::make_shared<connection_budget>(m.options.max_connections);
  h1_options o;
  o.verify_tls = m.options.verify_tls;
  o.ca_file = m.options.ca_file;
  o.max_host_connections = m.options.max_host_connections;
  o.budget = m.budget;
  o.refuse_address = m.options.refuse_address;
  m.h1 = std::make_unique<h1_transport>(m.io, std::move(o));
  m.thread = std::thread([self = impl_] { self->io.run(); });
  m.thread_id = m.thread.get_id();
}

client::~client() {
  stop();
  // Destroyed from one of its own callbacks: the thread ends once the callback returns, and
  // with it the last reference to impl_.
  if (impl_->thread_id == std::this_thread::get_id()) impl_->thread.detach();
}

void client::send(request r, completion done) {
  impl& m = *impl_;
  {
    std::lock_guard lock(m.mutex);
    if (!m.stopping) {
      asio::post(m.io, [p = &m, r = std::move(r), done = std::move(done)]() mutable {
        p->start(std::move(r), std::move(done));
      });
      return;
    }
  }
  done(cancelled());
}

void client::stop() {
  impl& m = *impl_;
  {
    std::lock_guard lock(m.mutex);
    if (!m.stopping) {
      m.stopping = true;
      // After every request already posted: they are taken, then cancelled.
      asio::post(m.io, [p = &m] { p->shutdown(); });
    }
  }
  if (m.thread_id == std::this_thread::get_id()) return;  // a callback: shutdown() runs after it
  std::lock_guard join(m.join_mutex);
  if (m.thread.joinable()) m.thread.join();
}

}  // namespace syndic::engine::http
