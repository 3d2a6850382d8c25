#pragma once
// Reading a whole input (a file, or stdin for "-") with a size limit.

#include <cstddef>
#include <optional>
#include <string>

namespace syndic::cli {

// Reads `path` ("-" for stdin). On failure returns nullopt and sets `error` to a message that
// names the file and the reason.
std::optional<std::string> read_input(const std::string& path, std::size_t max_bytes,
                                      std::string& error);

}  // namespace syndic::cli
