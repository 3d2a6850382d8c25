#include "cli/read_file.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace syndic::cli {
namespace {

std::string too_large(const std::string& path, std::size_t max_bytes) {
  return path + ": larger than the limit of " + std::to_string(max_bytes) + " bytes (--max-bytes)";
}

}  // namespace

input_bytes::input_bytes(input_bytes&& o) noexcept
    : data_(std::move(o.data_)), map_(std::exchange(o.map_, nullptr)),
      map_size_(std::exchange(o.map_size_, 0)) {}

input_bytes& input_bytes::operator=(input_bytes&& o) noexcept {
  if (this != &o) {
    this->~input_bytes();
    new (this) input_bytes(std::move(o));
  }
  return *this;
}

input_bytes::~input_bytes() {
  if (map_) munmap(const_cast<char*>(map_), map_size_);
}

std::optional<input_bytes> read_input(const std::string& path, std::size_t max_bytes,
                                      std::string& error) {
  bool is_stdin = path == "-";
  int fd = is_stdin ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  auto close_fd = [&] {
    if (!is_stdin) close(fd);
  };
  input_bytes in;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    error = path + ": " + std::strerror(EISDIR);
    close_fd();
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    auto size = static_cast<std::size_t>(st.st_size);
    if (size > max_bytes) {
      error = too_large(path, max_bytes);
      close_fd();
      return std::nullopt;
    }
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p != MAP_FAILED) {
      in.map_ = static_cast<const char*>(p);
      in.map_size_ = size;
      close_fd();
      return in;
    }
    // Not mappable (some special file systems): fall through to reading.
  }
  char buf[1 << 16];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": " + std::strerror(errno);
      close_fd();
      return std::nullopt;
    }
    if (n == 0) break;
    in.data_.append(buf, static_cast<std::size_t>(n));
    if (in.data_.size() > max_bytes) {
      error = too_large(path, max_bytes);
      close_fd();
      return std::nullopt;
    }
  }
  close_fd();
  return in;
}

}  // namespace syndic::cli
