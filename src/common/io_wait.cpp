#include "common/io_wait.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

namespace orders {

boost::asio::awaitable<bool> wait_ready(boost::asio::posix::stream_descriptor& descriptor,
                                        boost::asio::posix::descriptor_base::wait_type what,
                                        std::chrono::steady_clock::time_point deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  namespace asio = boost::asio;
  asio::steady_timer timer(descriptor.get_executor(), deadline);
  auto outcome = co_await (descriptor.async_wait(what, asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return outcome.index() == 0;
}

}  // namespace orders
