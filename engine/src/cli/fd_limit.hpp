#pragma once
// Every concurrent connection is a file descriptor. Commands raise RLIMIT_NOFILE's soft limit
// to the hard limit at start, and size their concurrency to what fits.

#include <cstddef>

namespace syndic::cli {

// Raises the soft limit to the hard limit; returns the limit now in force.
std::size_t raise_fd_limit();

}  // namespace syndic::cli
