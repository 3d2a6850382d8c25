#pragma once
// What the lazily loaded libraries share (http/curl_loader.cpp: libcurl; store/pq_loader.cpp:
// libpq): each defines the library's functions itself, as trampolines that dlopen the real
// library on the first call and forward to it, so that syndic_engine links neither and a
// process that never calls one never loads it.
//
// A loader lists its functions in an X-macro, X(name, (parameters), (arguments), what to
// return when the library is absent), and builds from that list, with the macros below:
//  - its table of pointers: one SYNDIC_DL_POINTER per function;
//  - load(): open_library(), then bind() for each function;
//  - the trampolines: SYNDIC_DL_TRAMPOLINE(table, ...) with `table` the function that loads
//    the library once (a function-local static) and returns its table.
// Nothing here loads anything.

#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace syndic::dl {

// The file named by the environment variable `env_var` when set and not empty, else
// `soname`, opened RTLD_NOW | RTLD_LOCAL: the library's symbols stay out of the global scope,
// where they would meet the trampolines of the same names. Null when it cannot be opened;
// `why` then says what dlopen said (or names the file).
inline void* open_library(const char* env_var, const char* soname, std::string& why) {
  const char* file = std::getenv(env_var);
  if (!file || !*file) file = soname;
  void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();
    why = error ? error : file;
  }
  return handle;
}

// A symbol missing from the library (an older version) stays null: its trampoline acts as if
// the library were absent.
template <class F>
void bind(void* handle, F& f, const char* name) {
  f = reinterpret_cast<F>(dlsym(handle, name));
}

// The return type of a function (fixed or variadic), from its address.
template <class F>
struct result_of_pointer;
template <class R, class... A>
struct result_of_pointer<R (*)(A...)> {
  using type = R;
};
template <class R, class... A>
struct result_of_pointer<R (*)(A..., ...)> {
  using type = R;
};
template <auto F>
using result_t = typename result_of_pointer<decltype(F)>::type;

}  // namespace syndic::dl

// A member of the table: the pointer to the real `name`, of the type the header declares.
#define SYNDIC_DL_POINTER(name, params, args, fallback) decltype(&::name) name = nullptr;

// The definition of `name` (with the header's declaration of it: same types, same linkage):
// forwards to the real one, or returns `fallback` when the library is absent.
#define SYNDIC_DL_TRAMPOLINE(table, name, params, args, fallback) \
  ::syndic::dl::result_t<&::name> name params {                   \
    if (auto f = table().name) return f args;                     \
    return fallback;                                              \
  }
