#pragma once
// A lean HTTP/1.1 keep-alive client for plain http:// outlets, on Beast. libcurl's per-transfer
// cost (URL parsing, connection-cache matching, printf-built requests) kept syndic at the
// speed of a plain curl_multi_perform loop; this path skips all of it. curl keeps everything
// it does best: TLS, HTTP/2, proxies. Same request/response types, same threading rule: one
// shard's thread only.

#include "http/curl_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace syndic::engine::http {

class beast_transport {
public:
  using completion = std::function<void(response)>;

  explicit beast_transport(boost::asio::io_context& io);
  ~beast_transport();
  beast_transport(const beast_transport&) = delete;
  beast_transport& operator=(const beast_transport&) = delete;

  // For http:// URLs only. `done` runs on the io_context's thread, never inline.
  void post(request r, completion done);

  struct connection;
  struct operation;

private:
  void connect(std::shared_ptr<operation> op);
  void send(std::shared_ptr<operation> op, std::shared_ptr<connection> c);
  void finish(std::shared_ptr<operation> op, CURLcode error);
  // A request that met a kept-alive connection the server had closed is sent once more on a
  // new connection. False when that was done already (or the connection was new).
  bool retry_on_fresh_connection(const std::shared_ptr<operation>& op);

  boost::asio::io_context& io_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<connection>>> idle_;  // by host:port
  std::unordered_map<std::string, std::vector<boost::asio::ip::tcp::endpoint>> resolved_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndic::engine::http
