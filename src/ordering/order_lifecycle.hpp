#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "http/message.hpp"
#include "ordering/order_reader.hpp"
#include "ordering/order_status.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/client.hpp"

namespace orders::ordering {

// Status changes after a purchase: cancel (PENDING or CONFIRMED; the units go back exactly
// once) and complete (CONFIRMED). The record decides who wins a race with a worker: a cancel
// of an order not yet persisted stores it as CANCELLED itself, so the worker's insert of the
// same id changes nothing and sells nothing.
class OrderLifecycle {
 public:
  OrderLifecycle(postgres::Pool& pool, redis::Client& redis, rabbitmq::Publisher& publisher, OrderReader& reader)
      : pool_(pool), redis_(redis), publisher_(publisher), reader_(reader) {}

  boost::asio::awaitable<http::Response> cancel(const std::string& order_id);
  boost::asio::awaitable<http::Response> change_status(const std::string& order_id, OrderStatus to);

 private:
  boost::asio::awaitable<void> publish(std::string_view type, const std::string& order_id, std::string_view from,
                                       std::string_view to);
  boost::asio::awaitable<http::Response> current(const std::string& order_id);

  postgres::Pool& pool_;
  redis::Client& redis_;
  rabbitmq::Publisher& publisher_;
  OrderReader& reader_;
};

}  // namespace orders::ordering
