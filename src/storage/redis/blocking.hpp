#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

// Blocking hiredis connections, for the code that runs outside the I/O threads: start-up
// probes, the worker's settle step, `orders reconcile`, `orders bench`.
namespace orders::redis {

using BlockingConnection = std::unique_ptr<redisContext, decltype(&redisFree)>;
using BlockingReply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// One command, its arguments binary-safe. Throws DependencyUnavailable naming Redis when the
// connection fails; an error reply is returned like any other.
BlockingReply blocking_command(redisContext* c, const std::vector<std::string>& args);

// Connected within `timeout` (also the timeout of every command on it), authenticated
// (AUTH [username] password, when the URL has a password) and on the URL's database. Throws
// DependencyUnavailable naming Redis and the address when any of it fails.
BlockingConnection connect_blocking(const config::RedisEndpoint& endpoint, std::chrono::seconds timeout);

}  // namespace orders::redis
