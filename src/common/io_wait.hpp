#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>

namespace orders {

// Waits until the descriptor is ready for `what` or the deadline passes (returns false then).
// The C clients (libpq) own their sockets; Asio only watches a dup of the fd.
boost::asio::awaitable<bool> wait_ready(boost::asio::posix::stream_descriptor& descriptor,
                                        boost::asio::posix::descriptor_base::wait_type what,
                                        std::chrono::steady_clock::time_point deadline);

}  // namespace orders
