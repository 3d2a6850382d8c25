#include "http/curl_transport.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <mutex>

#include <sys/socket.h>
#include <unistd.h>

namespace syndic::engine::http {
namespace {

// What the body and header callbacks of one transfer write into.
struct capture {
  response* resp = nullptr;
  std::size_t max_body = 0;  // request::max_response_body
  bool fetch = false;  // not a delivery's POST: keep the validators and the rest
  bool keep_headers = false;
  bool over_cap = false;  // the body callback refused the body: too_large, not a write error
};

}  // namespace

struct curl_transport::transfer {
  curl_transport* owner = nullptr;
  multi_slot* slot = nullptr;
  std::chrono::steady_clock::time_point deadline;  // the attempt's one deadline
  std::string url;
  std::shared_ptr<dns_cache> dns;  // keeps the share alive while the easy handle uses it
  curl_slist* headers = nullptr;
  std::shared_ptr<const std::string> body;
  completion done;
  response resp;
  capture cap{&resp};
  std::string refused;  // why refuse_address turned an address down
  std::chrono::steady_clock::time_point start;
  char error_buffer[CURL_ERROR_SIZE] = {};
  ~transfer() { curl_slist_free_all(headers); }
};

namespace {

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// The body: discarded for deliveries, kept up to the cap for fetches. Refusing bytes (a
// return short of the count) ends the transfer with CURLE_WRITE_ERROR and closes the
// connection, which cannot carry another request with a body half read.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<capture*>(user);
  std::size_t bytes = size * n;
  if (t->max_body == 0) return bytes;
  if (bytes > t->max_body - t->resp->body.size()) {
    t->over_cap = true;
    return 0;
  }
  t->resp->body.append(data, bytes);
  return bytes;
}

// Keeps the headers the retry policy and conditional GET need, and every header when asked.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<capture*>(user);
  response* resp = t->resp;
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100-continue): forget the old one
    resp->retry_after.clear();
    resp->location.clear();
    resp->etag.clear();
    resp->last_modified.clear();
    resp->content_type.clear();
    resp->cache_control.clear();
    resp->content_encoding.clear();
    resp->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return size * n;  // the blank line, a fold
  std::string_view name = line.substr(0, colon);
  std::string_view v = line.substr(colon + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  auto is = [&](std::string_view want) {  // `want` is lower-case
    if (name.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i)
      if ((name[i] | 0x20) != want[i]) return false;
    return true;
  };
  if (is("retry-after")) resp->retry_after = v;
  else if (is("location")) resp->location = v;
  else if (!t->fetch) return size * n;  // deliveries need nothing else
  else if (is("etag")) resp->etag = v;
  else if (is("last-modified")) resp->last_modified = v;
  else if (is("content-type")) resp->content_type = v;
  else if (is("cache-control")) resp->cache_control = v;
  else if (is("content-encoding")) resp->content_encoding = v;
  if (t->keep_headers) keep_header_field(resp->headers, name, v);
  return size * n;
}

transport_error from_curl(CURLcode c) {
  switch (c) {
    case CURLE_OK: return transport_error::none;
    case CURLE_OPERATION_TIMEDOUT: return transport_error::timeout;
    case CURLE_COULDNT_CONNECT: return transport_error::connect;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return transport_error::dns;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE: return transport_error::tls;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM: return transport_error::reset;
    case CURLE_FILESIZE_EXCEEDED: return transport_error::too_large;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL: return transport_error::protocol;
    case CURLE_OUT_OF_MEMORY: return transport_error::local;
    default: return transport_error::other;
  }
}

}  // namespace

curl_transport::curl_transport(boost::asio::io_context& io, transport_options options)
    : io_(io), options_(options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  budget_ = options_.budget ? options_.budget : std::make_shared<connection_budget>(connection_budget::per_shard(1));
  // curl's idle connections cannot be closed one by one from outside, so this transport
  // offers none to the budget's reclaimers: MAXCONNECTS bounds them instead (curl closes the
  // oldest beyond it).
  deadline_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  long idle_per_multi = static_cast<long>(std::max<std::size_t>(1, budget_->idle_cap() / std::max<std::size_t>(1, options_.multi_handles)));
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.multi_handles); ++i) {
    auto slot = std::make_unique<multi_slot>();
    slot->owner = this;
    slot->multi = curl_multi_init();
    slot->timer = std::make_unique<boost::asio::steady_timer>(io_);
    CURLM* m = slot->multi;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &curl_transport::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, slot.get());
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &curl_transport::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, slot.get());
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    if (options_.max_host_connections > 0)
      curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, idle_per_multi);  // idle connections kept
    slots_.push_back(std::move(slot));
  }
}

curl_transport::~curl_transport() {
  *alive_ = false;
  deadline_timer_->cancel();
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(t->slot->multi, easy);
    curl_easy_cleanup(easy);
  }
  transfers_.clear();
  for (auto& [url, easies] : idle_easy_)
    for (CURL* easy : easies) curl_easy_cleanup(easy);
  idle_easy_.clear();
  // Trap 6: cleanup may still call on_socket(REMOVE); the socket table is alive for it.
  for (auto& slot : slots_) {
    curl_multi_cleanup(slot->multi);
    slot->multi = nullptr;
    slot->timer->cancel();
  }
  for (auto& [fd, rec] : sockets_)
    if (rec.descriptor) {
      rec.descriptor->cancel();
      rec.descriptor->release();  // trap 3: curl's fd, not ours to close
    }
  dns_.reset();
}

std::shared_ptr<curl_transport::dns_cache> curl_transport::current_dns() {
  auto now = std::chrono::steady_clock::now();
  if (!dns_ || now - dns_since_ > dns_refresh) {
    // The deleter runs when the last transfer holding the old cache is done with it.
    dns_ = std::shared_ptr<dns_cache>(new dns_cache{curl_share_init(), 0}, [](dns_cache* c) {
      curl_share_cleanup(c->share);
      delete c;
    });
    curl_share_setopt(dns_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    dns_since_ = now;
  }
  return dns_;
}

curl_transport::multi_slot& curl_transport::slot_for(const std::string& url) {
  // scheme://authority/...: the authority picks the slot.
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find('/', start);
  std::string_view authority = std::string_view(url).substr(start, end == std::string::npos ? std::string::npos : end - start);
  return *slots_[std::hash<std::string_view>{}(authority) % slots_.size()];
}

CURL* curl_transport::take_easy(const std::string& url, bool& configured) {
  // A handle that last served this URL keeps its options: only the per-request ones change.
  if (auto it = idle_easy_.find(url); it != idle_easy_.end() && !it->second.empty()) {
    CURL* e = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) idle_easy_.erase(it);  // one key per URL ever used would pile up
    --idle_count_;
    configured = true;
    return e;
  }
  configured = false;
  return curl_easy_init();
}

void curl_transport::park_easy(CURL* e, const std::string& url) {
  if (idle_count_ >= max_idle_easy) {
    curl_easy_cleanup(e);
    return;
  }
  idle_easy_[url].push_back(e);
  ++idle_count_;
}

void curl_transport::post(request r, completion done) {
  bool configured = false;
  CURL* e = take_easy(r.url, configured);
  auto t = std::make_unique<transfer>();
  t->owner = this;
  t->slot = &slot_for(r.url);
  t->deadline = std::chrono::steady_clock::now() + r.timeout;
  t->body = std::move(r.body);
  t->done = std::move(done);
  t->start = std::chrono::steady_clock::now();
  t->cap.max_body = r.max_response_body;
  t->cap.keep_headers = r.keep_headers;
  // curl sends header lines as given: CR/LF from a feed's URL would start a header of its own.
  for (const auto& h : r.headers) t->headers = curl_slist_append(t->headers, safe_header_line(h).c_str());
  // An empty Expect stops curl from waiting for 100-continue on bodies over 1 KiB.
  t->headers = curl_slist_append(t->headers, "Expect:");
  if (!configured) {
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are the shard's call (follow_redirects)
    // Never anything but http(s), even if a redirect were followed here one day.
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &curl_transport::on_open);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L);  // see dns_cache in the header
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    // No CA directory: libcurl caches the parsed CA store per multi handle only when CApath is
    // unset, and Debian's libcurl has one built in, so every new connection re-read and parsed
    // the whole bundle (about 38 ms of CPU each with the system's 145 certificates; measured
    // with bench/delivery/compare_tls.sh TLS_CA=bundle). The bundle file holds the same CAs.
    curl_easy_setopt(e, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    // Concurrent requests to an HTTP/2 origin wait for the first connection's ALPN answer and
    // then share it, instead of each opening a connection before h2 is known. (Plain http://
    // is HTTP/1.1 here: waiting would only delay its parallel connections.)
    if (r.url.starts_with("https:")) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "syndic/0.1");
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &curl_transport::on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
  }
  // Deliveries (POST, body discarded) leave a handle as it was configured; once this
  // transport has fetched anything, every request sets its method and body handling, since
  // an idle handle may come back from either use.
  bool fetch = r.method != method::post || r.max_response_body > 0 || r.keep_headers;
  t->cap.fetch = fetch;
  fetched_ = fetched_ || fetch;
  if (fetched_) {
    if (r.method == method::post) curl_easy_setopt(e, CURLOPT_POST, 1L);  // clears NOBODY too
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, r.max_response_body ? &on_body : &discard_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t->cap);
    // A Content-Length over the cap fails before the body is read (CURLE_FILESIZE_EXCEEDED).
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_response_body));
    // "": every coding this libcurl decodes; the write callback (and so the cap) sees the
    // decoded bytes.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, r.decode_content ? "" : static_cast<const char*>(nullptr));
  }
  if (r.method == method::post) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body ? t->body->data() : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body ? t->body->size() : 0));
  } else if (r.method == method::get) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);  // no body, and NOBODY cleared
  } else {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);  // HEAD: no body read, whatever Content-Length says
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  // One deadline: curl's own timers get the whole of it (the connect phase no separate 5 s),
  // and expire() ends a transfer still queued for a connection when it passes.
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t->cap);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);  // per transfer: handles are reused
  t->url = std::move(r.url);
  t->dns = current_dns();
  curl_easy_setopt(e, CURLOPT_SHARE, t->dns->share);
  multi_slot* slot = t->slot;
  transfers_.emplace(e, std::move(t));
  arm_deadlines();
  if (CURLMcode rc = curl_multi_add_handle(slot->multi, e); rc != CURLM_OK) {
    // Never complete inline: the caller may hold state it expects unchanged until we return.
    auto failed = std::move(transfers_[e]);
    transfers_.erase(e);
    curl_easy_setopt(e, CURLOPT_SHARE, nullptr);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);
    park_easy(e, failed->url);
    failed->resp.error = transport_error::other;
    // Without libcurl, the loader's words say why it could not be loaded.
    failed->resp.error_detail = rc == CURLM_BAD_HANDLE || rc == CURLM_BAD_EASY_HANDLE
                                    ? curl_easy_strerror(CURLE_FAILED_INIT)
                                    : curl_multi_strerror(rc);
    boost::asio::post(io_, [f = std::move(failed)]() mutable { f->done(std::move(f->resp)); });
  }
}

curl_socket_t curl_transport::on_open(void* transfer_ptr, curlsocktype, struct curl_sockaddr* address) {
  auto* t = static_cast<transfer*>(transfer_ptr);
  if (const auto& refuse = t->owner->options_.refuse_address) {
    if (std::string why = refuse(address->addr); !why.empty()) {
      t->refused = std::move(why);  // curl tries the next address, or fails to connect
      return CURL_SOCKET_BAD;
    }
  }
  if (!t->owner->budget_->acquire()) {
    t->resp.local_failure = true;  // back-pressure, not the outlet's fault
    return CURL_SOCKET_BAD;
  }
  curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd == CURL_SOCKET_BAD) {
    int e = errno;
    t->owner->budget_->release();
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) t->resp.local_failure = true;
  }
  return fd;
}

void curl_transport::arm_deadlines() {
  if (deadline_armed_ || transfers_.empty()) return;
  deadline_armed_ = true;
  deadline_timer_->expires_after(std::chrono::milliseconds(50));
  deadline_timer_->async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a || ec) return;
    deadline_armed_ = false;
    expire(std::chrono::steady_clock::now());
    arm_deadlines();
  });
}

void curl_transport::expire(std::chrono::steady_clock::time_point now) {
  // curl times out what it is working on; a transfer queued behind the per-host cap is not
  // timed by curl at all. Whatever is past its deadline here ends now, as a timeout.
  std::vector<CURL*> late;
  for (auto& [e, t] : transfers_)
    if (t->deadline + std::chrono::milliseconds(20) <= now) late.push_back(e);  // curl's own timer first
  for (CURL* e : late) {
    auto it = transfers_.find(e);
    if (it == transfers_.end()) continue;  // ended meanwhile (a completion posted more work)
    std::unique_ptr<transfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(t->slot->multi, e);
    curl_easy_setopt(e, CURLOPT_SHARE, nullptr);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, nullptr);
    park_easy(e, t->url);
    response r = std::move(t->resp);
    r.error = transport_error::timeout;
    r.status = 0;
    r.body.clear();
    r.error_detail = "timed out (waiting for a connection or for the answer)";
    r.elapsed = now - t->start;
    t->done(std::move(r));
  }
}

int curl_transport::on_socket(CURL*, curl_socket_t fd, int what, void* slot_ptr, void*) {
  auto* slot = static_cast<multi_slot*>(slot_ptr);
  curl_transport* t = slot->owner;
  if (what == CURL_POLL_REMOVE) {
    // curl stops watching the socket (an idle keep-alive connection, say) but may watch it
    // again for the next transfer: keep its registration with the reactor, cancel the waits.
    // The record goes when curl closes the fd (on_close).
    if (auto it = t->sockets_.find(fd); it != t->sockets_.end()) {
      it->second.want = 0;
      if (it->second.read_armed || it->second.write_armed) {
        it->second.descriptor->cancel();
        it->second.read_armed = it->second.write_armed = false;
        it->second.generation = t->next_generation_++;  // completions of the cancelled waits are stale
      }
    }
    return 0;
  }
  // Trap 4: any fd curl gives us gets a record, whoever created it.
  socket_record& rec = t->sockets_[fd];
  if (!rec.descriptor) {
    rec.descriptor = std::make_unique<boost::asio::posix::stream_descriptor>(t->io_, fd);
    rec.generation = t->next_generation_++;
  }
  rec.slot = slot;
  rec.want = what;
  t->arm(fd, rec);
  return 0;
}

int curl_transport::on_close(void* self, curl_socket_t fd) {
  auto* t = static_cast<curl_transport*>(self);
  if (auto it = t->sockets_.find(fd); it != t->sockets_.end()) {
    if (it->second.descriptor) {
      it->second.descriptor->cancel();
      it->second.descriptor->release();  // trap 3: the fd is curl's; curl asked us to close it
    }
    t->sockets_.erase(it);  // trap 2: before the fd number can be handed out again
  }
  t->budget_->release();  // every socket curl closes was opened by on_open
  return close(fd);
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
  socket_action(*it->second.slot, fd, ec ? CURL_CSELECT_ERR : direction);
  // Trap 1: re-arm only while curl still wants this socket (the record may be gone now).
  it = sockets_.find(fd);
  if (it != sockets_.end() && it->second.generation == generation) arm(fd, it->second);
}

int curl_transport::on_timer(CURLM*, long timeout_ms, void* slot_ptr) {
  auto* slot = static_cast<multi_slot*>(slot_ptr);
  if (timeout_ms < 0) {
    slot->timer->cancel();
    return 0;
  }
  // Trap 5: even a 0 ms timeout goes through the io_context, never back into curl from here.
  slot->timer->expires_after(std::chrono::milliseconds(timeout_ms));
  std::weak_ptr<bool> alive = slot->owner->alive_;
  slot->timer->async_wait([slot, alive](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto a = alive.lock(); a && *a) slot->owner->socket_action(*slot, CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void curl_transport::socket_action(multi_slot& slot, curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(slot.multi, fd, mask, &running);
  collect_done(slot);
}

void curl_transport::collect_done(multi_slot& slot) {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(slot.multi, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL* e = m->easy_handle;
    CURLcode result = m->data.result;
    auto it = transfers_.find(e);
    if (it == transfers_.end()) continue;
    std::unique_ptr<transfer> t = std::move(it->second);
    transfers_.erase(it);
    response r = std::move(t->resp);
    long status = 0, connects = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    // RFC 9113 8.1: a server may answer before it has read the whole request body and then
    // reset the stream with NO_ERROR; its answer stands. libcurl 7.88 reports that as a
    // stream error (nginx's `return 204` does it about every third POST): keep the final
    // status already received rather than retry, and resend, a delivered item.
    if (result == CURLE_HTTP2_STREAM && status >= 200) result = CURLE_OK;
    r.status = result == CURLE_OK ? static_cast<int>(status) : 0;
    r.error = from_curl(result);
    if (result != CURLE_OK) {
      r.error_detail = redact_userinfo(t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(result));  // no password in a reason
      r.body.clear();
    }
    if (result == CURLE_WRITE_ERROR && t->cap.over_cap) {
      r.error = transport_error::too_large;
      r.error_detail = body_over_cap(t->cap.max_body);
    } else if (result == CURLE_FILESIZE_EXCEEDED) {
      r.error_detail = body_over_cap(t->cap.max_body);
    } else if (r.local_failure) {
      r.error = transport_error::local;
    } else if (result == CURLE_COULDNT_CONNECT && !t->refused.empty()) {
      r.error_detail = "connect to " + redact_userinfo(t->url) + ": " + t->refused;
    }
    // For 3xx curl has resolved Location against the request URL already.
    char* redirect = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
      r.location = redirect;
    r.connections_opened = connects;
    r.elapsed = std::chrono::steady_clock::now() - t->start;
    curl_multi_remove_handle(slot.multi, e);
    curl_easy_setopt(e, CURLOPT_SHARE, nullptr);  // the DNS cache may be retired meanwhile
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);  // the buffer dies with the transfer
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, nullptr);
    park_easy(e, t->url);
    t->done(std::move(r));  // from our handler, not from inside a curl callback
  }
}

}  // namespace syndic::engine::http
