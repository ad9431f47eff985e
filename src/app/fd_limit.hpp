#pragma once

#include <cstddef>

namespace orders::app {

// Raises the soft RLIMIT_NOFILE to the hard limit (the usual soft limit of 1,024 cannot hold
// 10,000 connections) and returns the soft limit in force afterwards.
std::size_t raise_fd_limit();

// How many HTTP connections fit under `fd_limit` descriptors with `reserved` kept for the
// pools, the listener, logs and reconnects (G6: connections are capped below the fd limit, so
// a flood gets 503s instead of EMFILE breaking dependency reconnects). At least 1.
std::size_t connection_cap(std::size_t wanted, std::size_t fd_limit, std::size_t reserved);

}  // namespace orders::app
