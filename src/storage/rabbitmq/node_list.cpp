#include "storage/rabbitmq/node_list.hpp"

#include <spdlog/spdlog.h>

#include "common/dependency_error.hpp"

namespace orders::rabbitmq {

NodeList::NodeList(std::vector<config::AmqpEndpoint> nodes) : nodes_(std::move(nodes)) {
  if (nodes_.empty()) throw config::ConfigError("RABBITMQ_URL: names no node");
}

std::vector<std::size_t> NodeList::attempt_order() const {
  const std::size_t first = connected_once_ ? (current_ + 1) % nodes_.size() : 0;
  std::vector<std::size_t> order;
  order.reserve(nodes_.size());
  for (std::size_t k = 0; k < nodes_.size(); ++k) order.push_back((first + k) % nodes_.size());
  return order;
}

std::unique_ptr<Connection> NodeList::connect(std::chrono::milliseconds timeout, int heartbeat_seconds) {
  std::string failures;
  for (std::size_t i : attempt_order()) {
    try {
      auto connection = std::make_unique<Connection>(nodes_[i], timeout, heartbeat_seconds);
      if (connected_once_ && i != current_) {
        spdlog::info("RabbitMQ: connected to {} (node {} of {})", nodes_[i].display(), i + 1, nodes_.size());
      }
      current_ = i;
      connected_once_ = true;
      return connection;
    } catch (const DependencyUnavailable& e) {
      if (nodes_.size() == 1) throw;
      // "RabbitMQ unavailable: cannot connect to HOST:PORT/: why" -> "cannot connect to HOST:PORT/: why"
      std::string_view why = e.what();
      if (auto colon = why.find(": "); colon != std::string_view::npos) why.remove_prefix(colon + 2);
      failures += (failures.empty() ? "" : "; ") + std::string(why);
    }
  }
  throw DependencyUnavailable("RabbitMQ",
                              "no node of " + std::to_string(nodes_.size()) + " answered (" + failures + ")");
}

std::string NodeList::display() const {
  std::string out;
  for (const auto& n : nodes_) out += (out.empty() ? "" : ", ") + n.display();
  return out;
}

}  // namespace orders::rabbitmq
