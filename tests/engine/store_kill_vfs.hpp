#pragma once
// A SQLite VFS that kills its own process (SIGKILL) at a chosen I/O call: the n-th write to
// the WAL once armed (in the middle of a commit's frames), the next sync of the WAL, or the
// n-th write to the database file (in the middle of a checkpoint). Installed as the default
// VFS in a forked child only (install()), it wraps the platform's VFS and forwards
// everything else, so the store under test runs unchanged until the moment it dies.

#include <sqlite3.h>

#include <signal.h>

#include <atomic>
#include <cstring>

namespace syndic::engine::store_test::kill_vfs {

enum class target { none, wal_write, wal_sync, db_write };

inline sqlite3_vfs* real_vfs = nullptr;
inline sqlite3_vfs shim;
inline std::atomic<target> armed{target::none};
inline std::atomic<long> countdown{0};

// Arms the kill: the process dies at the `n`-th matching call from now.
inline void arm(target t, long n) {
  countdown = n;
  armed = t;
}

// SQLite allocates files 8-byte aligned: no more may be asked (UBSan: misaligned member access).
struct alignas(8) file {
  sqlite3_file base;
  bool wal;
  bool main_db;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

inline file* of(sqlite3_file* f) { return reinterpret_cast<file*>(f); }
inline sqlite3_file* real(sqlite3_file* f) { return of(f)->real(); }

inline void maybe_die(target t) {
  if (armed.load() == t && --countdown <= 0) ::raise(SIGKILL);
}

inline int x_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
inline int x_read(sqlite3_file* f, void* b, int n, sqlite3_int64 o) { return real(f)->pMethods->xRead(real(f), b, n, o); }
inline int x_write(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  if (of(f)->wal) maybe_die(target::wal_write);
  if (of(f)->main_db) maybe_die(target::db_write);
  return real(f)->pMethods->xWrite(real(f), b, n, o);
}
inline int x_truncate(sqlite3_file* f, sqlite3_int64 s) { return real(f)->pMethods->xTruncate(real(f), s); }
inline int x_sync(sqlite3_file* f, int flags) {
  if (of(f)->wal) maybe_die(target::wal_sync);
  return real(f)->pMethods->xSync(real(f), flags);
}
inline int x_file_size(sqlite3_file* f, sqlite3_int64* s) { return real(f)->pMethods->xFileSize(real(f), s); }
inline int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
inline int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
inline int x_check_reserved(sqlite3_file* f, int* r) { return real(f)->pMethods->xCheckReservedLock(real(f), r); }
inline int x_file_control(sqlite3_file* f, int op, void* a) { return real(f)->pMethods->xFileControl(real(f), op, a); }
inline int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
inline int x_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
inline int x_shm_map(sqlite3_file* f, int i, int sz, int ext, void volatile** p) {
  return real(f)->pMethods->xShmMap(real(f), i, sz, ext, p);
}
inline int x_shm_lock(sqlite3_file* f, int o, int n, int fl) { return real(f)->pMethods->xShmLock(real(f), o, n, fl); }
inline void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
inline int x_shm_unmap(sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); }
inline int x_fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) { return real(f)->pMethods->xFetch(real(f), o, n, p); }
inline int x_unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) { return real(f)->pMethods->xUnfetch(real(f), o, p); }

inline const sqlite3_io_methods methods = {
    3,          x_close,          x_read,         x_write,    x_truncate,     x_sync,
    x_file_size, x_lock,          x_unlock,       x_check_reserved, x_file_control, x_sector_size,
    x_device,   x_shm_map,        x_shm_lock,     x_shm_barrier,    x_shm_unmap,    x_fetch,
    x_unfetch,
};

inline int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out) {
  file* w = of(f);
  w->wal = (flags & SQLITE_OPEN_WAL) != 0;
  w->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  std::memset(w->real(), 0, static_cast<std::size_t>(real_vfs->szOsFile));
  const int rc = real_vfs->xOpen(real_vfs, name, w->real(), flags, out);
  f->pMethods = w->real()->pMethods != nullptr ? &methods : nullptr;
  return rc;
}

// Makes the shim the default VFS of this process (call once, in the child, before opening).
inline bool install() {
  real_vfs = sqlite3_vfs_find(nullptr);
  if (real_vfs == nullptr || real_vfs->iVersion < 1) return false;
  shim = *real_vfs;
  shim.zName = "syndic-kill";
  shim.szOsFile = static_cast<int>(sizeof(file)) + real_vfs->szOsFile;
  shim.xOpen = x_open;
  return sqlite3_vfs_register(&shim, 1) == SQLITE_OK;
}

}  // namespace syndic::engine::store_test::kill_vfs
