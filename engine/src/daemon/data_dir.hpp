#pragma once
// The data directory of `syndic run`: created if missing, checked, and locked so that one
// syndic at a time uses it.
//
// The lock is flock(LOCK_EX) on DIR/syndic.lock, which holds the owner's pid as text (for the
// message a second instance prints). flock belongs to the open file, so the kernel releases
// it when the process ends in any way, kill -9 included: a stale lock file left behind never
// blocks a restart, and the file is never deleted (deleting a lock file lets two processes
// hold locks on two different files of the same name). The descriptor is O_CLOEXEC: a child
// that the daemon execs does not inherit the lock.
//
// flock is per host: two machines sharing a directory over NFS are not kept apart by it (the
// shared store of issue 11 has its own leases for that).

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

namespace syndic::daemon {

class data_dir {
 public:
  data_dir(data_dir&& other) noexcept;
  data_dir& operator=(data_dir&& other) noexcept;
  data_dir(const data_dir&) = delete;
  data_dir& operator=(const data_dir&) = delete;
  ~data_dir();  // releases the lock

  const std::filesystem::path& path() const { return path_; }  // absolute
  std::filesystem::path file(std::string_view name) const { return path_ / name; }

 private:
  friend struct data_dir_result open_data_dir(const std::filesystem::path& path);
  data_dir(std::filesystem::path path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::filesystem::path path_;
  int lock_fd_ = -1;
};

struct data_dir_result {
  std::optional<data_dir> dir;
  std::string error;  // a sentence naming the directory, when !dir
  pid_t holder = 0;   // when refused because another syndic holds it: its pid (0 if unknown)
};

// Creates `path` (and its parents) if missing, with mode 0700 for the directory itself;
// checks it is a directory that this process can create files in; takes the lock and writes
// this process's pid into it. Errors:
//   "cannot create the data directory 'DIR': Permission denied"
//   "the data directory 'DIR' exists and is not a directory"
//   "the data directory 'DIR' is not writable: Permission denied"
//   "the data directory 'DIR' is in use by another syndic (pid 1234)"
data_dir_result open_data_dir(const std::filesystem::path& path);

inline constexpr std::string_view lock_file_name = "syndic.lock";

}  // namespace syndic::daemon
