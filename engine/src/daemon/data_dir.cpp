// The data directory: create, check, lock (flock on DIR/syndic.lock; see data_dir.hpp).

#include "daemon/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace syndic::daemon {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string why(int err) { return std::strerror(err); }

// The pid the holder wrote into the lock file; 0 when it has not written it yet (it is between
// its flock and its write) or the file holds something else.
pid_t read_holder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  auto [end, ec] = std::from_chars(buf, buf + n, pid);
  if (ec != std::errc{} || pid <= 0 || end == buf) return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

data_dir::data_dir(data_dir&& other) noexcept : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
}

data_dir& data_dir::operator=(data_dir&& other) noexcept {
  if (this != &other) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    path_ = std::move(other.path_);
    lock_fd_ = other.lock_fd_;
    other.lock_fd_ = -1;
  }
  return *this;
}

// Closing the descriptor releases the flock; the file stays (see data_dir.hpp).
data_dir::~data_dir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

data_dir_result open_data_dir(const std::filesystem::path& path) {
  data_dir_result r;
  if (path.empty()) {
    r.error = "no data directory given (--data DIR)";
    return r;
  }
  const std::string shown = quoted(path);
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) abs = path;

  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      r.error = "cannot use the data directory " + shown + ": " + why(errno);
      return r;
    }
    if (abs.has_parent_path()) {
      std::filesystem::create_directories(abs.parent_path(), ec);
      if (ec) {
        r.error = "cannot create the data directory " + shown + ": " + ec.message();
        return r;
      }
    }
    // Its own files are the store: nobody else needs to read them.
    if (::mkdir(abs.c_str(), 0700) != 0 && errno != EEXIST) {
      r.error = "cannot create the data directory " + shown + ": " + why(errno);
      return r;
    }
    if (::stat(abs.c_str(), &st) != 0) {
      r.error = "cannot use the data directory " + shown + ": " + why(errno);
      return r;
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    r.error = "the data directory " + shown + " exists and is not a directory";
    return r;
  }

  const std::filesystem::path lock_path = abs / lock_file_name;
  // O_NOFOLLOW: a symbolic link planted as the lock file would have us write our pid through it.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    struct stat lock_st {};
    bool lock_exists = ::lstat(lock_path.c_str(), &lock_st) == 0;
    if (err == EACCES && lock_exists)  // left by a syndic run as another user (root?)
      r.error = "cannot open the lock file " + quoted(lock_path) + " for writing: " + why(err) +
                " (owned by uid " + std::to_string(lock_st.st_uid) + ")";
    else if (err == EACCES || err == EPERM || err == EROFS)
      r.error = "the data directory " + shown + " is not writable: " + why(err);
    else
      r.error = "cannot open the lock file " + quoted(lock_path) + ": " + why(err);
    return r;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      r.holder = read_holder(fd);
      r.error = "the data directory " + shown + " is in use by another syndic (" +
                (r.holder ? "pid " + std::to_string(r.holder) : std::string("pid unknown")) + ")";
    } else {
      r.error = "cannot lock " + quoted(lock_path) + ": " + why(err);
    }
    ::close(fd);
    return r;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    r.error = "the data directory " + shown + " is not writable: cannot write " + quoted(lock_path) + ": " + why(errno);
    ::close(fd);
    return r;
  }
  // The store creates files next to the lock (the database, its WAL and shared memory): an
  // existing, writable lock file in a directory that has since become read-only is not enough.
  const std::filesystem::path probe = abs / (".syndic-write-test." + std::to_string(::getpid()));
  ::unlink(probe.c_str());  // left by a killed process that had our pid
  int p = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (p < 0) {
    r.error = "the data directory " + shown + " is not writable: " + why(errno);
    ::close(fd);
    return r;
  }
  ::close(p);
  ::unlink(probe.c_str());
  r.dir.emplace(data_dir(std::move(abs), fd));
  return r;
}

}  // namespace syndic::daemon
