// simdjson, loaded on first use by the `syndic` command (cmake/static_command.cmake).
//
// Why: Debian ships simdjson only as a shared library, and libsimdjson.so needs
// libstdc++.so. Linked in, it made every command load the shared C++ runtime at start: ~70
// page faults and ~2,000 symbol lookups, ~2 ms of each `syndic --version` on this VM (where a
// page fault costs ~20 us), for commands that parse no JSON. So the command links the C++
// runtime statically (-static-libstdc++) and loads libsimdjson.so.14 (and, through it,
// libstdc++.so.6) on the first JSON parse.
//
// How: nearly all of simdjson is in its header, compiled into the command. The command
// calls the library for three things only, and this file defines them, so the linker
// (--as-needed) drops libsimdjson.so from the command's start-up dependencies:
//  - simdjson::get_active_implementation() (the parser calls it when it allocates) and
//    simdjson::validate_utf8(): forwarded, the first call of either loading the library;
//  - simdjson::internal::error_codes, the table of error messages that the header's
//    error_message() reads: a copy kept here, filled from the library's when it loads (what
//    a copy relocation did when the library was linked). Before that load (an error found
//    by the header's code alone, such as missing padding) it gives a generic message.
// If a new simdjson function is called by the code, the link keeps libsimdjson.so as a
// start-up dependency, and tests/cli/startup_test.sh says so: forward it here too.
//
// Two copies of the C++ runtime (and of libgcc's unwinder): the command's (static) and
// libstdc++.so with libgcc_s.so, which serve only libsimdjson.so. Nothing crosses between
// them but plain memory (malloc underneath both), vtable calls into the library's own classes
// (whose deleting destructors are the library's own), and C strings: simdjson reports errors
// as codes and allocates with nothrow new, so no exception crosses. The command does not
// export its copy (libsimdjson.so binds to its own). cli.startup checks that the command's
// own exceptions still work with both loaded.
//
// A command that needs simdjson and cannot load it stops with the loader's reason (exit
// status 70). SYNDIC_LIBSIMDJSON names another library file to load instead.

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <simdjson.h>

#ifndef SYNDIC_LIBSIMDJSON_SONAME
#define SYNDIC_LIBSIMDJSON_SONAME "libsimdjson.so.14"
#endif

namespace syndic::cli::simdjson_loader {

using active_fn = simdjson::internal::atomic_ptr<const simdjson::implementation>& (*)();
using validate_fn = bool (*)(const char*, std::size_t) noexcept;

constexpr int error_count = simdjson::NUM_ERROR_CODES;

// The layout of simdjson::internal::error_code_info.
struct error_entry {
  simdjson::error_code code;
  const char* message;
};
static_assert(sizeof(error_entry) == sizeof(simdjson::internal::error_code_info));

struct error_table {
  error_entry entries[error_count];
};

constexpr error_table unloaded_table() {
  error_table t{};
  for (int i = 0; i < error_count; ++i)
    t.entries[i] = {simdjson::error_code(i), "JSON error (simdjson not loaded yet)"};
  return t;
}

}  // namespace syndic::cli::simdjson_loader

// simdjson::internal::error_codes itself (the header declares it const and extern; only this
// file writes it, once, when the library loads). Not const here, so not in read-only memory.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
syndic::cli::simdjson_loader::error_table syndic_simdjson_error_codes __asm__("_ZN8simdjson8internal11error_codesE") =
    syndic::cli::simdjson_loader::unloaded_table();

namespace syndic::cli::simdjson_loader {
namespace {

[[noreturn]] void cannot_load(const char* what, const char* detail) {
  std::fprintf(stderr, "syndic: simdjson could not be loaded (%s): %s\n", what,
               detail ? detail : "");
  std::fflush(stderr);
  _exit(70);
}

void* symbol(void* handle, const char* name) {
  void* p = dlsym(handle, name);
  if (!p) cannot_load(name, dlerror());
  return p;
}

struct library {
  active_fn active;
  validate_fn validate;
};

const library& load() {
  // A function-local static: one dlopen, and every thread sees it done.
  static const library lib = [] {
    const char* file = std::getenv("SYNDIC_LIBSIMDJSON");
    if (!file || !*file) file = SYNDIC_LIBSIMDJSON_SONAME;
    void* h = dlopen(file, RTLD_LAZY | RTLD_LOCAL);  // lazy: libstdc++.so binds as it is used
    if (!h) cannot_load(file, dlerror());
    library l{reinterpret_cast<active_fn>(symbol(h, "_ZN8simdjson25get_active_implementationEv")),
              reinterpret_cast<validate_fn>(symbol(h, "_ZN8simdjson13validate_utf8EPKcm"))};
    // The library's table must be the one this header describes: same size, codes in order.
    const char* table_name = "_ZN8simdjson8internal11error_codesE";
    const auto* theirs = static_cast<const error_entry*>(symbol(h, table_name));
    Dl_info info{};
    void* entry = nullptr;  // the table's ElfW(Sym)
    if (dladdr1(theirs, &info, &entry, RTLD_DL_SYMENT) == 0 || !entry ||
        static_cast<const ElfW(Sym)*>(entry)->st_size != sizeof(error_table))
      cannot_load(table_name, "its size differs from the header's (another simdjson version?)");
    for (int i = 0; i < error_count; ++i)
      if (theirs[i].code != simdjson::error_code(i) || !theirs[i].message)
        cannot_load(table_name, "its codes differ from the header's (another simdjson version?)");
    // A thread may read a message while this writes (one that got an error before any load):
    // it reads the old pointer or the new one, both valid.
    for (int i = 0; i < error_count; ++i)
      std::atomic_ref<const char*>(syndic_simdjson_error_codes.entries[i].message)
          .store(theirs[i].message, std::memory_order_relaxed);
    return l;
  }();
  return lib;
}

}  // namespace
}  // namespace syndic::cli::simdjson_loader

namespace simdjson {

using syndic::cli::simdjson_loader::load;


internal::atomic_ptr<const implementation>& get_active_implementation() { return load().active(); }

bool validate_utf8(const char* buf, std::size_t len) noexcept { return load().validate(buf, len); }

}  // namespace simdjson
