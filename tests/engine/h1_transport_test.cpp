// The plain-HTTP client on its own, against the sink on loopback: connection lifetime.

#include "http/h1_transport.hpp"

#include <syndic/engine/sink.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace syndic::engine::http {
namespace {

using namespace std::chrono_literals;

struct h1_fixture : ::testing::Test {
  std::unique_ptr<sink> server;
  std::string url;
  void SetUp() override {
    server = std::make_unique<sink>(sink_options{});
    server->start();
    url = "http://127.0.0.1:" + std::to_string(server->ports().front()) + "/x";
  }
  // Posts one request and runs the io_context for `run`; returns the status.
  int post_and_run(h1_transport& t, boost::asio::io_context& io, std::chrono::milliseconds run) {
    int status = -1;
    request r;
    r.url = url;
    r.body = std::make_shared<const std::string>("{}");
    t.post(r, [&](response resp) { status = resp.status; });
    io.run_for(run);
    io.restart();
    return status;
  }
};

TEST_F(h1_fixture, KeptAliveConnectionIsReused) {
  boost::asio::io_context io;
  h1_transport t(io);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);
  EXPECT_EQ(t.open_connections(), 1u);
  EXPECT_EQ(server->stats().connections, 1u);
}

TEST_F(h1_fixture, IdleConnectionsAreClosedAfterTheirTimeout) {
  boost::asio::io_context io;
  h1_options o;
  o.idle_timeout = 100ms;
  h1_transport t(io, o);
  EXPECT_EQ(post_and_run(t, io, 400ms), 204);  // the idle check runs every 50 ms
  EXPECT_EQ(t.open_connections(), 0u);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);  // a new connection, no failure
  EXPECT_EQ(server->stats().connections, 2u);
}

}  // namespace
}  // namespace syndic::engine::http
