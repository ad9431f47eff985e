#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/cluster_slots.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

using namespace orders;
using orders::testing::Process;
namespace asio = boost::asio;

namespace {

// The cluster bus listens on the data port + 10000, so the data port must be <= 55535.
constexpr std::uint16_t kHighestDataPort = 55535;

bool can_listen_on(std::uint16_t port) {
  try {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A free data port whose bus port is free too.
std::uint16_t free_cluster_port() {
  for (int i = 0; i < 200; ++i) {
    const std::uint16_t port = orders::testing::free_port();
    if (port <= kHighestDataPort && can_listen_on(static_cast<std::uint16_t>(port + 10000))) return port;
  }
  throw std::runtime_error("no free port pair (port, port + 10000) for a cluster node");
}

// A cluster-enabled redis-server of its own, no slots assigned: CLUSTER KEYSLOT only hashes, so
// one node answers it. Its own directory (nodes.conf), stopped by PID and removed at the end.
class ClusterEnabledRedis {
 public:
  ClusterEnabledRedis() {
    dir_ = std::filesystem::temp_directory_path() / ("orders-cluster-" + orders::uuid::make_v7().substr(24));
    std::filesystem::create_directories(dir_);
    // Another process may take the port between free_cluster_port() and the bind: a new port then.
    std::string last_output;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (start(last_output)) return;
    }
    throw std::runtime_error("cluster-enabled redis did not start: " + last_output);
  }
  ~ClusterEnabledRedis() {
    if (process_) {
      process_->signal(SIGTERM);
      process_->wait(std::chrono::seconds(10));
      process_.reset();  // SIGKILL by PID if it is still running
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ClusterEnabledRedis(const ClusterEnabledRedis&) = delete;
  ClusterEnabledRedis& operator=(const ClusterEnabledRedis&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  bool start(std::string& output) {
    port_ = free_cluster_port();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                 "--cluster-enabled", "yes", "--cluster-config-file", (dir_ / "nodes.conf").string(),
                                 "--save", "", "--appendonly", "no", "--dir", dir_.string()});
    // Up to 30 s: a first start on a box busy with benchmarks can be slow.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto ping = orders::testing::run({"redis-cli", "-p", std::to_string(port_), "ping"}, {}, std::chrono::seconds(5));
      if (ping.output.find("PONG") != std::string::npos) return true;
      if (!process_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    output = process_->output();
    process_.reset();
    return false;
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// A key as it can be read in a failure message: bytes outside printable ASCII as \xNN, long
// keys cut.
std::string printable(const std::string& key) {
  std::string out;
  for (std::size_t i = 0; i < key.size() && i < 64; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    }
  }
  if (key.size() > 64) out += "... (" + std::to_string(key.size()) + " bytes)";
  return "\"" + out + "\"";
}

// About 200 keys: the documented examples, every odd placement of braces, binary bytes, UTF-8,
// keys shaped like ours, pseudo-random bytes (fixed seed) and long keys with tags far inside.
std::vector<std::string> varied_keys() {
  std::vector<std::string> keys{"",
                                "123456789",
                                "foo",
                                "bar",
                                "user1000",
                                "{user1000}.following",
                                "{user1000}.followers",
                                "foo{}{bar}",
                                "foo{{bar}}zap",
                                "foo{bar}{zap}",
                                "{",
                                "}",
                                "{}",
                                "}{",
                                "{}}",
                                "{{}",
                                "{{}}",
                                "{{{a}}}",
                                "a{b",
                                "a}b{c",
                                "a{b}c",
                                "{a}",
                                "{ab}cd",
                                "x{ }y",
                                "a{b{c}d}e",
                                "{}{}",
                                "{}a{b}",
                                "}{a}",
                                "{a}{b}{c}",
                                "{{a}",
                                "{a}}",
                                "stock:{p42#3}",
                                "{p42#3}:limit:u1",
                                "{p42#3}:idem:5f1c",
                                "order:{o-01J9Z}",
                                "ключ",
                                "注文{商品}",
                                "{ключ}x",
                                "cart \xF0\x9F\x9B\x92",
                                " ",
                                "  {} ",
                                "\t{\n}\r"};
  for (int i = 0; i < 20; ++i) keys.push_back("key:" + std::to_string(i * 7919));
  // Single bytes across the whole range, NUL and 0xFF included.
  for (int byte = 0; byte < 256; byte += 5) keys.emplace_back(1, static_cast<char>(byte));
  keys.emplace_back(1, '\xFF');
  keys.push_back(std::string("\0", 1));
  keys.push_back(std::string("\0\0", 2));
  keys.push_back(std::string("a\0b", 3));
  keys.push_back(std::string("{\0}x", 4));
  keys.push_back(std::string("{a\0}b", 5));
  keys.push_back(std::string("\0{x}", 4));
  keys.push_back(std::string("{\xFF\xFE}\x80", 5));
  // Pseudo-random bytes; every third key gets a '{' and a '}' at random places.
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte_of(0, 255);
  std::uniform_int_distribution<int> length_of(1, 48);
  for (int i = 0; i < 80; ++i) {
    std::string key(static_cast<std::size_t>(length_of(rng)), '\0');
    for (char& c : key) c = static_cast<char>(byte_of(rng));
    if (i % 3 == 0) {
      std::uniform_int_distribution<std::size_t> at(0, key.size() - 1);
      std::size_t open = at(rng), close = at(rng);
      if (open > close) std::swap(open, close);
      key[open] = '{';
      key[close] = '}';
    }
    keys.push_back(std::move(key));
  }
  // Long keys.
  keys.emplace_back(1000, 'a');
  std::string tagged(4096, 'x');
  tagged.replace(4000, 7, "{tag42}");
  keys.push_back(tagged);
  std::string patterned(100000, '\0');
  for (std::size_t i = 0; i < patterned.size(); ++i) patterned[i] = static_cast<char>((i * 31 + 7) % 256);
  keys.push_back(patterned);
  keys.push_back("{" + std::string(65534, 'z') + "}");
  keys.push_back("{}" + std::string(20000, 'q') + "{tag}");
  keys.push_back(std::string(30000, 'w') + "{");
  return keys;
}

TEST(ClusterSlotKeyslot, KeySlotMatchesClusterKeyslotOfARealNode) {
  ClusterEnabledRedis node;
  auto conn = redis::BlockingConnection::connect(
      config::parse_redis_url("redis://127.0.0.1:" + std::to_string(node.port()) + "/0"), std::chrono::seconds(10));

  const std::vector<std::string> keys = varied_keys();
  ASSERT_GE(keys.size(), 200u);
  std::vector<redis::Command> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) commands.push_back(redis::Command::of({"CLUSTER", "KEYSLOT", key}));
  const std::vector<redis::Reply> replies = conn.pipeline(commands);
  ASSERT_EQ(replies.size(), keys.size());

  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(replies[i].type, redis::Reply::Type::kInteger) << printable(keys[i]) << ": " << replies[i].str;
    EXPECT_EQ(redis::key_slot(keys[i]), replies[i].integer) << printable(keys[i]);
  }
}

}  // namespace
