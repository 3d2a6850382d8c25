#include "http/curl_transport.hpp"

#include <boost/asio/post.hpp>

#include <mutex>

namespace syndic::engine::http {

struct curl_transport::transfer {
  curl_slist* headers = nullptr;
  std::shared_ptr<const std::string> body;
  completion done;
  response resp;
  std::chrono::steady_clock::time_point start;
  ~transfer() { curl_slist_free_all(headers); }
};

namespace {

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// Keeps the two response headers the retry policy needs.
std::size_t keep_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* resp = static_cast<response*>(user);
  std::string_view line(data, size * n);
  auto take = [&](std::string_view name, std::string& into) {
    if (line.size() <= name.size()) return;
    for (std::size_t i = 0; i < name.size(); ++i)
      if ((line[i] | 0x20) != name[i]) return;
    std::string_view v = line.substr(name.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    into = std::string(v);
  };
  if (line.starts_with("HTTP/")) {  // a new response (after 100-continue): forget the old one
    resp->retry_after.clear();
    resp->location.clear();
  }
  take("retry-after:", resp->retry_after);
  take("location:", resp->location);
  return size * n;
}

}  // namespace

curl_transport::curl_transport(boost::asio::io_context& io, transport_options options)
    : io_(io), options_(options), timer_(io) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_transport::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_transport::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  if (options_.max_host_connections > 0)
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
  if (options_.max_total_connections > 0)
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
}

curl_transport::~curl_transport() {
  *alive_ = false;
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  transfers_.clear();
  for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
  idle_easy_.clear();
  // Trap 6: cleanup may still call on_socket(REMOVE); the socket table is alive for it.
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  for (auto& [fd, rec] : sockets_)
    if (rec.descriptor) {
      rec.descriptor->cancel();
      rec.descriptor->release();  // trap 3: curl's fd, not ours to close
    }
  timer_.cancel();
}

CURL* curl_transport::take_easy() {
  if (idle_easy_.empty()) return curl_easy_init();
  CURL* e = idle_easy_.back();
  idle_easy_.pop_back();
  curl_easy_reset(e);
  return e;
}

void curl_transport::post(request r, completion done) {
  CURL* e = take_easy();
  auto t = std::make_unique<transfer>();
  t->body = std::move(r.body);
  t->done = std::move(done);
  t->start = std::chrono::steady_clock::now();
  for (const auto& h : r.headers) t->headers = curl_slist_append(t->headers, h.c_str());
  // An empty Expect stops curl from waiting for 100-continue on bodies over 1 KiB.
  t->headers = curl_slist_append(t->headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body ? t->body->data() : "");
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body ? t->body->size() : 0));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<std::int64_t>(r.timeout.count(), 5000)));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are the retry policy's call
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 300L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard_body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &keep_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t->resp);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "syndic/0.1");
  transfers_.emplace(e, std::move(t));
  if (CURLMcode rc = curl_multi_add_handle(multi_, e); rc != CURLM_OK) {
    // Never complete inline: the caller may hold state it expects unchanged until we return.
    auto failed = std::move(transfers_[e]);
    transfers_.erase(e);
    idle_easy_.push_back(e);
    failed->resp.error = CURLE_FAILED_INIT;
    boost::asio::post(io_, [f = std::move(failed)]() mutable { f->done(std::move(f->resp)); });
  }
}

int curl_transport::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto* t = static_cast<curl_transport*>(self);
  if (what == CURL_POLL_REMOVE) {
    if (auto it = t->sockets_.find(fd); it != t->sockets_.end()) {
      if (it->second.descriptor) {
        it->second.descriptor->cancel();
        it->second.descriptor->release();
      }
      t->sockets_.erase(it);
    }
    return 0;
  }
  // Trap 4: any fd curl gives us gets a record, whoever created it.
  socket_record& rec = t->sockets_[fd];
  if (!rec.descriptor) {
    rec.descriptor = std::make_unique<boost::asio::posix::stream_descriptor>(t->io_, fd);
    rec.generation = t->next_generation_++;
  }
  rec.want = what;
  t->arm(fd, rec);
  return 0;
}

void curl_transport::arm(curl_socket_t fd, socket_record& rec) {
  std::weak_ptr<bool> alive = alive_;
  std::uint64_t gen = rec.generation;
  if ((rec.want & CURL_POLL_IN) && !rec.read_armed) {
    rec.read_armed = true;
    rec.descriptor->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this, alive, fd, gen](const boost::system::error_code& ec) {
                                 if (auto a = alive.lock(); a && *a) on_ready(fd, gen, CURL_CSELECT_IN, ec);
                               });
  }
  if ((rec.want & CURL_POLL_OUT) && !rec.write_armed) {
    rec.write_armed = true;
    rec.descriptor->async_wait(boost::asio::posix::stream_descriptor::wait_write,
                               [this, alive, fd, gen](const boost::system::error_code& ec) {
                                 if (auto a = alive.lock(); a && *a) on_ready(fd, gen, CURL_CSELECT_OUT, ec);
                               });
  }
}

void curl_transport::on_ready(curl_socket_t fd, std::uint64_t generation, int direction,
                              const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted) return;
  auto it = sockets_.find(fd);
  // Trap 2: a completion for a socket curl has since dropped (and maybe whose fd number
  // was reused) is stale.
  if (it == sockets_.end() || it->second.generation != generation) return;
  (direction == CURL_CSELECT_IN ? it->second.read_armed : it->second.write_armed) = false;
  socket_action(fd, ec ? CURL_CSELECT_ERR : direction);
  // Trap 1: re-arm only while curl still wants this socket (the record may be gone now).
  it = sockets_.find(fd);
  if (it != sockets_.end() && it->second.generation == generation) arm(fd, it->second);
}

int curl_transport::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* t = static_cast<curl_transport*>(self);
  if (timeout_ms < 0) {
    t->timer_.cancel();
    return 0;
  }
  // Trap 5: even a 0 ms timeout goes through the io_context, never back into curl from here.
  t->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  std::weak_ptr<bool> alive = t->alive_;
  t->timer_.async_wait([t, alive](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto a = alive.lock(); a && *a) t->socket_action(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void curl_transport::socket_action(curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, mask, &running);
  collect_done();
}

void curl_transport::collect_done() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL* e = m->easy_handle;
    CURLcode result = m->data.result;
    auto it = transfers_.find(e);
    if (it == transfers_.end()) continue;
    std::unique_ptr<transfer> t = std::move(it->second);
    transfers_.erase(it);
    response r = std::move(t->resp);
    r.error = result;
    long status = 0, connects = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    r.status = result == CURLE_OK ? static_cast<int>(status) : 0;
    // For 3xx curl has resolved Location against the request URL already.
    char* redirect = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
      r.location = redirect;
    r.connections_opened = connects;
    r.elapsed = std::chrono::steady_clock::now() - t->start;
    connections_opened_ += connects;
    curl_multi_remove_handle(multi_, e);
    idle_easy_.push_back(e);
    t->done(std::move(r));  // from our handler, not from inside a curl callback
  }
}

}  // namespace syndic::engine::http
