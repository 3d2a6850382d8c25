// The PostgreSQL store's inside: the connection wrapper (array literals, binary COPY, SQLSTATEs
// kept) against the real test server, and the writer's handling of a connection lost around
// COMMIT, through a loopback proxy that cuts the writer's connection at that moment:
//  - before the COMMIT reaches the server: the appends did not happen and run again;
//  - after the server answered it: they happened, and must not be appended a second time.
// The behaviour seen from outside (restarts, fences, tailing) is in store_pg_test.cpp.

#include "store/pg_db.hpp"
#include "store/pg_store.hpp"
#include "store_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

// A TCP proxy on 127.0.0.1 in front of the test server. When armed, it watches what clients
// send for the simple query "COMMIT" (what the store's writer sends) and cuts that connection:
// `before` the server sees it, `during` (at once after passing it on: the server may still be
// committing when the writer, reconnected, asks), or `after` the server has answered it (the
// client never hears).
class commit_cutter {
public:
  enum class mode { off, before, during, after };

  explicit commit_cutter(int server_port) : server_port_(server_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 16) != 0)
      throw std::runtime_error("proxy: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~commit_cutter() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lk(m_);
    for (auto& t : pipes_) t.join();
  }

  int port() const { return port_; }
  void arm(mode m) { mode_ = m; }
  int cuts() const { return cuts_; }

private:
  void accept_loop() {
    for (;;) {
      const int c = ::accept(listener_, nullptr, nullptr);
      if (c < 0) return;
      if (stopping_) {
        ::close(c);
        return;
      }
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(server_port_));
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      std::lock_guard lk(m_);
      pipes_.emplace_back([this, c, s] { pipe(c, s); });
    }
  }

  static bool send_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  void pipe(int client, int server) {
    // A simple query ending in COMMIT ("COMMIT", or "...; COMMIT"), NUL-terminated on the wire.
    const std::string_view needle("COMMIT\0", 7);
    char buf[65536];
    for (int rounds = 0; rounds < 10'000'000 && !stopping_; ++rounds) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 200) < 0) break;
      if (fds[0].revents) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        const std::string_view chunk(buf, static_cast<std::size_t>(n));
        const mode m = mode_.load();
        if (m != mode::off && chunk.find(needle) != std::string_view::npos) {
          mode_ = mode::off;
          if (m == mode::during) send_all(server, buf, chunk.size());
          if (m == mode::after) {
            send_all(server, buf, chunk.size());
            // Wait for the server's answer (the commit is done), and drop it.
            pollfd f{server, POLLIN, 0};
            ::poll(&f, 1, 10'000);
          }
          ++cuts_;
          break;
        }
        if (!send_all(server, buf, chunk.size())) break;
      }
      if (fds[1].revents) {
        const ssize_t n = ::recv(server, buf, sizeof buf, 0);
        if (n <= 0) break;
        if (!send_all(client, buf, static_cast<std::size_t>(n))) break;
      }
    }
    ::close(client);
    ::close(server);
  }

  int server_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<mode> mode_{mode::off};
  std::atomic<int> cuts_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex m_;
  std::vector<std::thread> pipes_;
};

struct StorePgWire : ::testing::Test {
  pg_test::cluster* pg = nullptr;
  std::string schema;

  void SetUp() override { use_pg_cluster(pg, schema); }

  std::unique_ptr<pg::connection> connect() const {
    auto c = pg::connection::open(pg->url(), 5s);
    if (!c.ok()) throw std::runtime_error(c.status.message);
    return std::move(c.value);
  }

  // Appends `n` one-entry appends at once (one group), cutting the writer's connection at its
  // COMMIT as `how` says; checks every append is acknowledged and in the log exactly once.
  void appends_survive_a_cut(commit_cutter::mode how) {
    commit_cutter proxy(pg->port());
    postgres_options o;
    o.schema = schema;
    o.commit_interval = 20ms;
    pg::test_hooks hooks;
    std::atomic<bool> armed_once{false};
    hooks.before_commit = [&](std::string_view kind) {
      if (kind == "appends" && !armed_once.exchange(true)) proxy.arm(how);
    };
    const std::string url = "postgres://postgres@127.0.0.1:" + std::to_string(proxy.port()) + "/postgres?sslmode=disable";
    auto opened = pg::open_store(url, o, hooks);
    ASSERT_TRUE(opened.ok()) << opened.status.message;
    store& db = *opened.value;
    // 40 appends without a key (a second run would append them again), then 10 repeating
    // the keys of appends of the same group.
    constexpr std::size_t n = 50;
    std::mutex m;
    std::map<std::string, std::vector<seq_t>> acked;
    std::vector<std::string> failed;
    for (std::size_t i = 0; i < n; ++i) {
      log_entry e = entry(i);
      const std::string id = e.item_id;
      std::string key;
      if (i >= 30) key = "key-" + std::to_string(i < 40 ? i : i - 10);
      db.append({{std::move(e)}, key}, [&, id](store_result<appended> r) {
        std::lock_guard lk(m);
        if (r.ok()) acked[id] = r.value.seqs;
        else failed.push_back(id + ": " + r.status.message);
      });
    }
    ASSERT_TRUE(db.flush().ok());
    EXPECT_EQ(proxy.cuts(), 1);
    EXPECT_TRUE(failed.empty()) << failed.front();
    ASSERT_EQ(acked.size(), n);
    EXPECT_EQ(db.head().value, 40u);
    auto log = db.read(1, 1000);
    ASSERT_TRUE(log.ok()) << log.status.message;
    EXPECT_EQ(log.value.size(), 40u);
    for (std::size_t i = 0; i < 40 && i < log.value.size(); ++i) {
      EXPECT_EQ(log.value[i].seq, i + 1);
      EXPECT_EQ(log.value[i].item_id, "item-" + std::to_string(i));
      EXPECT_EQ(acked["item-" + std::to_string(i)], std::vector<seq_t>{i + 1});
    }
    for (std::size_t i = 40; i < n; ++i) EXPECT_EQ(acked["item-" + std::to_string(i)], std::vector<seq_t>{i - 10 + 1});
    db.close();
  }
};

// The connection dies after the server committed the appends but before the writer heard
// so: the writer finds its batch recorded and does not append the items a second time.
TEST_F(StorePgWire, AnAmbiguousCommitOfAppendsIsNotAppendedTwice) {
  appends_survive_a_cut(commit_cutter::mode::after);
}

// The connection dies while the server commits: whichever way that went, each append is in
// the log once (the writer looks for its batch under the log_head lock, which the first try
// holds until its commit or abort is over).
TEST_F(StorePgWire, AppendsCutDuringTheirCommitAreInTheLogOnce) {
  appends_survive_a_cut(commit_cutter::mode::during);
}

// The connection dies before the COMMIT reached the server: nothing was appended, and the
// writer runs the appends again on a new connection; the publishers see only success.
TEST_F(StorePgWire, AppendsCutBeforeTheirCommitRunAgain) {
  appends_survive_a_cut(commit_cutter::mode::before);
}

// A coordinator renews all its leases at once: the renewals of one round go in one statement,
// and each still gets its own answer (renewed, or lost for a stale token or another owner);
// a lease renewed and released in the same round has both calls applied in order.
TEST_F(StorePgWire, RenewalsOfOneRoundEachGetTheirOwnAnswer) {
  manual_clock clock;
  postgres_options o;
  o.schema = schema;
  o.clock = clock.fn();
  o.commit_interval = 50ms;  // one group for everything queued below
  auto opened = open_postgres_store(pg->url(), o);
  ASSERT_TRUE(opened.ok()) << opened.status.message;
  store& db = *opened.value;
  std::vector<lease> held;
  for (int i = 0; i < 40; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "partition/%03d", i);
    auto l = db.acquire_lease_sync(name, "node-a", 10s);
    ASSERT_TRUE(l.ok() && l.value) << l.status.message;
    held.push_back(*l.value);
  }
  ASSERT_TRUE(db.acquire_lease_sync("other", "node-b", 10s).value.has_value());
  clock.advance(5s);
  std::mutex m;
  std::map<std::string, std::optional<lease>> answers;
  auto keep = [&](std::string key) {
    return [&, key](store_result<std::optional<lease>> r) {
      ASSERT_TRUE(r.ok()) << r.status.message;
      std::lock_guard lk(m);
      answers[key] = r.value;
    };
  };
  for (int i = 39; i >= 0; --i) {  // queued out of name order
    lease l = held[static_cast<std::size_t>(i)];
    if (i == 7) l.token += 1;           // stale
    if (i == 8) l.owner = "node-c";     // not the holder
    db.renew_lease(l, 10s, keep(l.name));
  }
  db.renew_lease(lease{"other", "node-a", 1, {}}, 10s, keep("other"));  // another's
  std::promise<store_status> released;
  db.renew_lease(held[20], 20s, keep("again/020"));  // partition/020 twice: renewed, then...
  db.release_lease(held[20], [&](store_status s) { released.set_value(s); });  // ...released
  ASSERT_TRUE(db.flush().ok());
  EXPECT_TRUE(released.get_future().get().ok());
  const store_time expected = clock.now() + 10s;
  for (int i = 0; i < 40; ++i) {
    const std::string& name = held[static_cast<std::size_t>(i)].name;
    ASSERT_TRUE(answers.count(name)) << name;
    if (i == 7 || i == 8) {
      EXPECT_FALSE(answers[name].has_value()) << name;
      continue;
    }
    ASSERT_TRUE(answers[name].has_value()) << name;
    EXPECT_EQ(answers[name]->expires, expected) << name;
    EXPECT_EQ(answers[name]->token, held[static_cast<std::size_t>(i)].token);
  }
  EXPECT_FALSE(answers["other"].has_value());
  ASSERT_TRUE(answers["again/020"].has_value());
  EXPECT_EQ(answers["again/020"]->expires, clock.now() + 20s);
  EXPECT_EQ(db.get_lease("partition/020").value->owner, "");  // the release came after both renewals
  EXPECT_EQ(db.get_lease("partition/007").value->expires, held[7].expires);  // not renewed
  EXPECT_EQ(db.get_lease("partition/039").value->expires, expected);
  EXPECT_EQ(db.get_lease("other").value->owner, "node-b");
}

// close() while the server is down: writes wait for it while the store is open, but close()
// gives up on them after a bound (twice the connect timeout, at least 5 s) for the whole
// queue, failing each with io_error, rather than waiting forever or once per transaction.
TEST_F(StorePgWire, CloseDuringAnOutageFailsWhatIsQueuedAfterOneBound) {
  postgres_options o;
  o.schema = schema;
  o.connect_timeout = 1s;
  o.commit_max_ops = 1;  // one transaction per write: many rounds queued
  auto opened = open_postgres_store(pg->url(), o);
  ASSERT_TRUE(opened.ok()) << opened.status.message;
  store& db = *opened.value;
  ASSERT_TRUE(db.append_sync({{entry(1)}, ""}).ok());
  std::string why;
  ASSERT_TRUE(pg->stop(true, &why)) << why;
  std::mutex m;
  std::vector<store_status> results;
  for (int i = 0; i < 20; ++i) {
    db.write({kv_put{"n", std::to_string(i), "v"}}, [&](store_status s) {
      std::lock_guard lk(m);
      results.push_back(s);
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  db.close();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(pg->start(&why)) << why;
  ASSERT_EQ(results.size(), 20u);
  for (const auto& s : results) EXPECT_EQ(s.code, store_errc::io_error) << s.message;
  // Not a timing assertion on the store's speed: one bound (5 s) rather than 20 of them.
  EXPECT_LT(took, 60s);
}

// Array literals carry any text through unnest() unchanged: quotes, backslashes, commas,
// braces, spaces, "NULL" as text, empty strings, non-ASCII; nullopt is NULL.
TEST_F(StorePgWire, ArrayLiteralsRoundTrip) {
  auto c = connect();
  const std::vector<std::string> texts = {"a", "b\"c", "d\\e", "f,g", "{h}", " i ", "NULL", "", "été ✓"};
  auto r = c->query("SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n", {pg::array_literal(texts)});
  ASSERT_TRUE(r.ok()) << r.status.message;
  ASSERT_EQ(r.value.rows(), static_cast<int>(texts.size()));
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(r.value.text(static_cast<int>(i), 0), texts[i]);

  auto n = c->query("SELECT x IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                    {pg::array_literal(std::vector<std::optional<std::string>>{"x", std::nullopt})});
  ASSERT_TRUE(n.ok()) << n.status.message;
  EXPECT_FALSE(n.value.boolean(0, 0));
  EXPECT_TRUE(n.value.boolean(1, 0));

  const std::vector<std::int64_t> ints = {0, -1, 9'223'372'036'854'775'807LL};
  auto i = c->query("SELECT sum(x::numeric)::text, count(*) FROM unnest($1::bigint[]) AS x", {pg::array_literal(ints)});
  ASSERT_TRUE(i.ok()) << i.status.message;
  EXPECT_EQ(i.value.text(0, 0), "9223372036854775806");

  const std::vector<std::string> blobs = {std::string("\0\xff\"\\{", 5), ""};
  auto b = c->query("SELECT x FROM unnest($1::bytea[]) WITH ORDINALITY AS u(x, n) ORDER BY n", {pg::bytea_array_literal(blobs)});
  ASSERT_TRUE(b.ok()) << b.status.message;
  EXPECT_EQ(b.value.bytea(0, 0), blobs[0]);
  EXPECT_EQ(b.value.bytea(1, 0), blobs[1]);

  // A bytea parameter sent in binary: any bytes, no escaping.
  auto raw = c->query("SELECT $1::bytea", {std::string("\0\x01\xfe", 3)}, {true});
  ASSERT_TRUE(raw.ok()) << raw.status.message;
  EXPECT_EQ(raw.value.bytea(0, 0), std::string("\0\x01\xfe", 3));
}

// Results asked for in binary read as the text ones do: integers of every width (negative
// too), booleans, bytea as its bytes, text, NULL.
TEST_F(StorePgWire, BinaryResultsReadAsTextResultsDo) {
  auto c = connect();
  const std::string sql =
      "SELECT -2::smallint, -70000::int, -5000000000::bigint, true, '\\x00ff41'::bytea, 'été'::text, NULL::bigint";
  for (bool binary : {false, true}) {
    auto r = c->query(sql, {}, {}, binary);
    ASSERT_TRUE(r.ok()) << r.status.message;
    EXPECT_EQ(r.value.binary(0), binary);
    EXPECT_EQ(r.value.int64(0, 0), -2);
    EXPECT_EQ(r.value.int64(0, 1), -70000);
    EXPECT_EQ(r.value.int64(0, 2), -5000000000LL);
    EXPECT_TRUE(r.value.boolean(0, 3));
    EXPECT_EQ(r.value.bytea(0, 4), std::string("\0\xff" "A", 3));
    EXPECT_EQ(r.value.text(0, 5), "été");
    EXPECT_TRUE(r.value.is_null(0, 6));
  }
}

// binary_copy rows land as given; text that PostgreSQL would refuse (invalid UTF-8, NUL) is
// repaired rather than failing the whole COPY.
TEST_F(StorePgWire, BinaryCopyLoadsRowsAndRepairsText) {
  auto c = connect();
  ASSERT_TRUE(c->exec("CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".t (n bigint, s text, b bytea, z text)").ok());
  pg::binary_copy rows;
  rows.row(4);
  rows.int8(-5);
  rows.text("plain");
  rows.bytes(std::string("\0\xff", 2));
  rows.null();
  rows.row(4);
  rows.int8(7);
  rows.text(std::string("bad\xc3(\0x", 7));
  rows.bytes("");
  rows.text("");
  ASSERT_TRUE(c->copy_in("COPY " + schema + ".t (n, s, b, z) FROM STDIN (FORMAT binary)", rows.finish()).ok());
  auto r = c->query("SELECT n, s, b, z IS NULL FROM " + schema + ".t ORDER BY n", {});
  ASSERT_TRUE(r.ok()) << r.status.message;
  ASSERT_EQ(r.value.rows(), 2);
  EXPECT_EQ(r.value.int64(0, 0), -5);
  EXPECT_EQ(r.value.text(0, 1), "plain");
  EXPECT_EQ(r.value.bytea(0, 2), std::string("\0\xff", 2));
  EXPECT_TRUE(r.value.boolean(0, 3));
  EXPECT_EQ(r.value.text(1, 1), "bad\xEF\xBF\xBD(\xEF\xBF\xBDx");
  EXPECT_FALSE(r.value.boolean(1, 3));
}

// Failures keep their SQLSTATE; a syntax error is not transient, a lost connection is.
TEST_F(StorePgWire, FailuresKeepTheirSqlstate) {
  auto c = connect();
  auto r = c->query("SELEC 1", {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(c->sqlstate(), "42601");
  EXPECT_FALSE(c->transient());
  EXPECT_NE(r.status.message.find("127.0.0.1:" + std::to_string(pg->port())), std::string::npos) << r.status.message;
  EXPECT_TRUE(c->query("SELECT 1", {}).ok());
  EXPECT_EQ(c->sqlstate(), "");
  // Killed from another connection: the next call fails, transient, and the connection is broken.
  auto pid = c->query("SELECT pg_backend_pid()", {});
  ASSERT_TRUE(pid.ok());
  auto killer = connect();
  ASSERT_TRUE(killer->query("SELECT pg_terminate_backend($1::int)", {std::string(pid.value.text(0, 0))}).ok());
  // The backend may take a moment to exit: a few tries, bounded.
  auto after = c->query("SELECT 1", {});
  for (int i = 0; i < 50 && after.ok(); ++i) {
    std::this_thread::sleep_for(20ms);
    after = c->query("SELECT 1", {});
  }
  EXPECT_FALSE(after.ok());
  EXPECT_TRUE(c->transient()) << c->sqlstate();
  EXPECT_TRUE(c->broken());
}

// A schema made by a newer syndic is refused, not written to.
TEST_F(StorePgWire, ANewerSchemaIsRefused) {
  auto m = migrate_postgres_store(pg->url(), schema);
  ASSERT_TRUE(m.ok()) << m.status.message;
  auto c = connect();
  ASSERT_TRUE(c->exec("INSERT INTO " + schema + ".schema_version VALUES (99, 0)").ok());
  postgres_options o;
  o.schema = schema;
  auto r = open_postgres_store(pg->url(), o);
  EXPECT_EQ(r.status.code, store_errc::newer_schema) << r.status.message;
  EXPECT_NE(r.status.message.find("99"), std::string::npos) << r.status.message;
  // Tables of another program in the schema: not a store.
  const std::string other = pg->new_schema();
  ASSERT_TRUE(c->exec("CREATE SCHEMA " + other + "; CREATE TABLE " + other + ".x (y int)").ok());
  o.schema = other;
  EXPECT_EQ(open_postgres_store(pg->url(), o).status.code, store_errc::not_a_store);
}

}  // namespace
}  // namespace syndic::engine
