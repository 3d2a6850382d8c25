#include "cli/read_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace syndic::cli {

std::optional<std::string> read_input(const std::string& path, std::size_t max_bytes,
                                      std::string& error) {
  bool is_stdin = path == "-";
  std::FILE* f = is_stdin ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string data;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.append(buf, n);
    if (data.size() > max_bytes) {
      error = path + ": larger than the limit of " + std::to_string(max_bytes) +
              " bytes (--max-bytes)";
      if (!is_stdin) std::fclose(f);
      return std::nullopt;
    }
  }
  bool failed = std::ferror(f);
  int err = errno;
  if (!is_stdin) std::fclose(f);
  if (failed) {
    error = path + ": " + std::strerror(err);
    return std::nullopt;
  }
  return data;
}

}  // namespace syndic::cli
