#include "cli/read_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

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
  // A regular file is read in one go into a buffer of its size: no regrowth, no extra copy.
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<std::size_t>(st.st_size) <= max_bytes)
    data.reserve(static_cast<std::size_t>(st.st_size) + 4097);  // + room to see EOF
  std::size_t n;
  while (true) {
    if (data.capacity() - data.size() < 4096) data.reserve(data.capacity() * 2 + 65536);
    std::size_t old_size = data.size();
    data.resize(data.capacity());
    n = std::fread(data.data() + old_size, 1, data.size() - old_size, f);
    data.resize(old_size + n);
    if (n == 0) break;
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
