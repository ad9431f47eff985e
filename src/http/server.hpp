#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"

namespace orders::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_connections = 10000;
  std::chrono::seconds idle_timeout{60};  // keep-alive connections with nothing to read
  std::chrono::seconds read_timeout{15};  // a request that started must arrive within this
  std::string admin_token;                // when set, Access::kAdmin routes require it as a bearer token
  bool insecure_admin = false;            // no token: kAdmin routes are open (else they answer 403)
};

// One shard per I/O thread: its io_context and the router whose handlers use that thread's
// connections (Redis, PostgreSQL). Sessions run entirely on their shard, so nothing is locked.
struct Shard {
  boost::asio::io_context* io;
  const Router* router;
};

// Boost.Beast HTTP/1.1 server on C++20 coroutines: keep-alive, timeouts, a body limit, the
// JSON error envelope for everything that goes wrong, and graceful shutdown.
class Server {
 public:
  Server(ServerOptions options, std::vector<Shard> shards);
  ~Server();

  // Binds and listens (throws std::system_error naming the address when it cannot), then
  // accepts on the first shard's io_context and hands connections round-robin to all shards.
  void start();
  std::uint16_t port() const;  // the bound port (useful with port 0)

  // Stops accepting, closes idle connections, lets in-flight requests finish. Returns true when
  // every session ended before the deadline.
  bool shutdown(std::chrono::steady_clock::duration grace);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace orders::http
