// OpenSSL, loaded on first use by the `syndic` command (cmake/static_command.cmake).
//
// Why: linked in, OpenSSL is 18,000 of the command's 30,000 load-time relocations and
// ~350 KB of pointer tables that the dynamic loader writes, page by page, at every start:
// ~90 page faults, 1-2 ms of each `syndic --version` or `convert` on this machine (a VM
// where a fault costs ~20 us), for commands that never use it. Only https and signatures do.
//
// How: every function that libssl.so.3 and libcrypto.so.3 export gets a trampoline in the
// command (openssl_trampolines.cpp, generated at configure time from the libraries' symbol
// tables; hidden, so libcurl's own libssl.so never binds to them). A trampoline jumps
// through its slot, zero until resolved; an empty slot goes to a stub that saves the
// argument registers, calls syndic_openssl_resolve below with the slot and the function's
// name, and jumps to what it returns. So the first call of each function costs a dlsym, and
// the first call at all a dlopen of libssl.so.3 (which brings libcrypto.so.3). libcurl,
// when loaded, shares that same copy.
//
// There is no way to report a failure through an arbitrary OpenSSL function, so a command
// that needs OpenSSL and cannot load it stops with the loader's reason (exit status 70).
// SYNDIC_LIBSSL names another library file to load instead of libssl.so.3.

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#ifndef SYNDIC_LIBSSL_SONAME
#define SYNDIC_LIBSSL_SONAME "libssl.so.3"
#endif

// Called by the generated stub (hence C linkage, and hidden: nothing outside the command).
extern "C" void* syndic_openssl_resolve(void** slot, const char* name)
    __attribute__((visibility("hidden")));

namespace {

[[noreturn]] void cannot_load(const char* what, const char* detail) {
  std::fprintf(stderr, "syndic: OpenSSL could not be loaded (%s): %s\n", what, detail ? detail : "");
  std::fflush(stderr);
  _exit(70);
}

void* library() {
  // A function-local static: one dlopen, and every thread sees it done.
  static void* const handle = [] {
    // SYNDIC_LIBSSL names another file (a test makes the load fail with it).
    const char* file = std::getenv("SYNDIC_LIBSSL");
    if (!file || !*file) file = SYNDIC_LIBSSL_SONAME;
    void* h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) cannot_load(file, dlerror());
    return h;
  }();
  return handle;
}

}  // namespace

void* syndic_openssl_resolve(void** slot, const char* name) {
  // dlsym through libssl's handle searches its dependencies too (libcrypto).
  void* fn = dlsym(library(), name);
  if (!fn) cannot_load(name, dlerror());
  // Several threads may resolve the same slot: they store the same address.
  std::atomic_ref<void*>(*slot).store(fn, std::memory_order_release);
  return fn;
}
