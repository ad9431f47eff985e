#pragma once

#include <boost/asio/awaitable.hpp>

#include "storage/rabbitmq/publisher.hpp"

// Where the catalog's events (stock.adjusted) go: RabbitMQ with publisher confirms in
// production (PublisherSink); a fake in the service's unit tests.
namespace orders::catalog {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) = 0;
};

class PublisherSink final : public EventSink {
 public:
  explicit PublisherSink(rabbitmq::Publisher& publisher) : publisher_(publisher) {}
  boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) override {
    return publisher_.publish(std::move(message));
  }

 private:
  rabbitmq::Publisher& publisher_;
};

}  // namespace orders::catalog
