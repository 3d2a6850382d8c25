// The sink checks what a receiver should: Standard Webhooks signatures with a timestamp
// tolerance (a replay carries an old timestamp), and WebSub's X-Hub-Signature.

#include "http/h1_transport.hpp"

#include <syndic/engine/signer.hpp>
#include <syndic/testkit/sink.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace syndic::engine {
namespace {

using namespace syndic::testkit;  // the sink plays the outlets

using namespace std::chrono_literals;

const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct signed_sink : ::testing::Test {
  std::unique_ptr<sink> server;
  boost::asio::io_context io;
  std::unique_ptr<http::h1_transport> client;
  void SetUp() override {
    sink_options o;
    o.secret = secret;
    server = std::make_unique<sink>(o);
    server->start();
    client = std::make_unique<http::h1_transport>(io);
  }
  int post(std::vector<std::string> headers, const std::string& body) {
    http::request r;
    r.url = "http://127.0.0.1:" + std::to_string(server->ports().front()) + "/hook";
    r.body = std::make_shared<const std::string>(body);
    r.headers = std::move(headers);
    int status = -1;
    client->post(r, [&](http::response resp) { status = resp.status; });
    for (int i = 0; i < 500 && status == -1; ++i) {
      io.run_for(10ms);
      io.restart();
    }
    return status;
  }
  std::vector<std::string> webhook(const std::string& id, std::int64_t ts, const std::string& body) {
    return {"webhook-id: " + id, "webhook-timestamp: " + std::to_string(ts),
            "webhook-signature: " + webhook_signature(webhook_key_from_secret(secret), id, ts, body)};
  }
};

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST_F(signed_sink, WebhookTimestampOutsideTheToleranceIsRefused) {
  std::string body = R"({"a":1})";
  EXPECT_EQ(post(webhook("msg_1", now_s(), body), body), 204);
  EXPECT_EQ(post(webhook("msg_2", now_s() - 600, body), body), 401);  // a replay, 10 min late
  EXPECT_EQ(post(webhook("msg_3", now_s() + 600, body), body), 401);
  EXPECT_EQ(server->stats().bad_signatures, 2u);
}

TEST_F(signed_sink, WebsubSignatureIsVerified) {
  std::string body = "<feed/>";
  std::string link = "Link: <http://hub/>; rel=\"hub\", <http://topic/>; rel=\"self\"";
  EXPECT_EQ(post({link, "X-Hub-Signature: " + websub_signature(secret, body)}, body), 204);
  EXPECT_EQ(post({link, "X-Hub-Signature: " + websub_signature("other", body)}, body), 401);
  EXPECT_EQ(post({link}, body), 401);  // a WebSub delivery without its signature
  EXPECT_EQ(server->stats().bad_signatures, 2u);
}

}  // namespace
}  // namespace syndic::engine
