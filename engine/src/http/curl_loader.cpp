// libcurl, loaded on first use. syndic_engine does not link libcurl: this file defines the
// curl_* functions the engine calls as trampolines that dlopen libcurl once, on the first
// call from any thread, and forward to the real ones.
//
// Why: Debian's libcurl brings 30 shared libraries (gnutls, nghttp2, ldap, kerberos, ssh,
// rtmp, p11-kit...) whose loading, relocations and constructors cost 15-20 ms of every
// process start on this machine, and most commands send nothing over curl: `syndic convert`,
// `sink`, `--version`, `--help`, and every plain-http delivery (the h1 transport). Now only
// a process that makes a curl transport pays, once.
//
// When libcurl cannot be loaded, nothing fails at start: the functions that make handles
// return null, the others libcurl's own "bad handle" or "failed init" codes, so the first
// https request fails as a transport error, and curl_easy_strerror(CURLE_FAILED_INIT) says
// what dlopen said. SYNDIC_LIBCURL names another library file to load (a test uses it to
// make the load fail; it also lets a user try another libcurl build).
//
// Thread-safety: the library is loaded in a function-local static (C++ guarantees one
// initialisation, and that every thread sees it complete), after which the table of function
// pointers is only read.

#define CURL_DISABLE_TYPECHECK  // curl.h's checking macros would rename the functions defined here
#include <curl/curl.h>

#include "dl/trampoline.hpp"

#include <cstdarg>
#include <string>

#ifndef SYNDIC_LIBCURL_SONAME
#define SYNDIC_LIBCURL_SONAME "libcurl.so.4"
#endif

namespace {

// Every function forwarded: name, (parameters), (arguments), what to return without libcurl.
// The variadic setopt/getinfo functions are written out below. A function the engine starts
// calling must be added here (the link fails with an undefined reference until it is).
#define SYNDIC_CURL_FIXED(X)                                                                  \
  X(curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                               \
  X(curl_global_cleanup, (void), (), )                                                        \
  X(curl_easy_init, (void), (), nullptr)                                                      \
  X(curl_easy_cleanup, (CURL * h), (h), )                                                     \
  X(curl_easy_reset, (CURL * h), (h), )                                                       \
  X(curl_easy_perform, (CURL * h), (h), CURLE_FAILED_INIT)                                    \
  X(curl_easy_pause, (CURL * h, int bitmask), (h, bitmask), CURLE_FAILED_INIT)               \
  X(curl_multi_init, (void), (), nullptr)                                                     \
  X(curl_multi_cleanup, (CURLM * m), (m), CURLM_BAD_HANDLE)                                   \
  X(curl_multi_add_handle, (CURLM * m, CURL * h), (m, h), CURLM_BAD_HANDLE)                   \
  X(curl_multi_remove_handle, (CURLM * m, CURL * h), (m, h), CURLM_BAD_HANDLE)                \
  X(curl_multi_info_read, (CURLM * m, int* left), (m, left), nullptr)                        \
  X(curl_multi_socket_action, (CURLM * m, curl_socket_t s, int ev, int* running),             \
    (m, s, ev, running), CURLM_BAD_HANDLE)                                                    \
  X(curl_multi_assign, (CURLM * m, curl_socket_t s, void* p), (m, s, p), CURLM_BAD_HANDLE)    \
  X(curl_multi_perform, (CURLM * m, int* running), (m, running), CURLM_BAD_HANDLE)            \
  X(curl_multi_poll, (CURLM * m, struct curl_waitfd* fds, unsigned n, int ms, int* ret),      \
    (m, fds, n, ms, ret), CURLM_BAD_HANDLE)                                                   \
  X(curl_multi_wakeup, (CURLM * m), (m), CURLM_BAD_HANDLE)                                    \
  X(curl_multi_timeout, (CURLM * m, long* ms), (m, ms), CURLM_BAD_HANDLE)                     \
  X(curl_multi_strerror, (CURLMcode c), (c), "libcurl could not be loaded")                   \
  X(curl_share_init, (void), (), nullptr)                                                     \
  X(curl_share_cleanup, (CURLSH * s), (s), CURLSHE_INVALID)                                   \
  X(curl_share_strerror, (CURLSHcode c), (c), "libcurl could not be loaded")                  \
  X(curl_slist_append, (struct curl_slist * l, const char* s), (l, s), nullptr)               \
  X(curl_slist_free_all, (struct curl_slist * l), (l), )                                      \
  X(curl_free, (void* p), (p), )                                                              \
  X(curl_version, (void), (), const_cast<char*>("libcurl not loaded"))                        \
  X(curl_version_info, (CURLversion v), (v), nullptr)

struct libcurl {
  void* handle = nullptr;
  std::string error;  // why dlopen failed, as a whole sentence
  SYNDIC_CURL_FIXED(SYNDIC_DL_POINTER)
  decltype(&::curl_easy_strerror) curl_easy_strerror = nullptr;
  decltype(&::curl_easy_setopt) curl_easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) curl_easy_getinfo = nullptr;
  decltype(&::curl_multi_setopt) curl_multi_setopt = nullptr;
  decltype(&::curl_share_setopt) curl_share_setopt = nullptr;
};

libcurl load() {
  libcurl lib;
  std::string why;
  lib.handle = syndic::dl::open_library("SYNDIC_LIBCURL", SYNDIC_LIBCURL_SONAME, why);
  if (!lib.handle) {
    lib.error = "libcurl could not be loaded (" + why + "); https:// and HTTP/2 outlets need it (Debian: apt install libcurl4)";
    return lib;
  }
#define SYNDIC_CURL_BIND(name, params, args, fallback) syndic::dl::bind(lib.handle, lib.name, #name);
  SYNDIC_CURL_FIXED(SYNDIC_CURL_BIND)
#undef SYNDIC_CURL_BIND
  syndic::dl::bind(lib.handle, lib.curl_easy_strerror, "curl_easy_strerror");
  syndic::dl::bind(lib.handle, lib.curl_easy_setopt, "curl_easy_setopt");
  syndic::dl::bind(lib.handle, lib.curl_easy_getinfo, "curl_easy_getinfo");
  syndic::dl::bind(lib.handle, lib.curl_multi_setopt, "curl_multi_setopt");
  syndic::dl::bind(lib.handle, lib.curl_share_setopt, "curl_share_setopt");
  return lib;
}

const libcurl& curl() {
  static const libcurl lib = load();
  return lib;
}

// The variadic ones take exactly one argument after the option. Its type follows from the
// option's number: curl.h numbers options from CURLOPTTYPE_LONG (long),
// CURLOPTTYPE_OBJECTPOINT (data pointer: strings, lists, user data), CURLOPTTYPE_FUNCTIONPOINT
// (callbacks), CURLOPTTYPE_OFF_T (curl_off_t) and CURLOPTTYPE_BLOB (struct curl_blob*), each
// range 10,000 wide; curl_multi_setopt's options follow the same scheme. The argument is
// read back with its own type and passed on with it, as libcurl will va_arg it.
template <class Fn, class Handle, class Option>
auto forward_option(Fn f, Handle h, Option option, va_list ap) {
  long o = static_cast<long>(option);
  if (o < CURLOPTTYPE_OBJECTPOINT) return f(h, option, va_arg(ap, long));
  if (o < CURLOPTTYPE_FUNCTIONPOINT) return f(h, option, va_arg(ap, void*));
  if (o < CURLOPTTYPE_OFF_T) return f(h, option, va_arg(ap, void (*)()));
  if (o < CURLOPTTYPE_BLOB) return f(h, option, va_arg(ap, curl_off_t));
  return f(h, option, va_arg(ap, void*));
}

}  // namespace

// The definitions match curl.h's declarations (C linkage, same types); only the bodies are ours.
extern "C" {

#define SYNDIC_CURL_TRAMPOLINE(name, params, args, fallback) SYNDIC_DL_TRAMPOLINE(curl, name, params, args, fallback)
SYNDIC_CURL_FIXED(SYNDIC_CURL_TRAMPOLINE)
#undef SYNDIC_CURL_TRAMPOLINE

const char* curl_easy_strerror(CURLcode code) {
  const libcurl& lib = curl();
  if (lib.curl_easy_strerror) return lib.curl_easy_strerror(code);
  // The first https request fails with CURLE_FAILED_INIT: its reason is why the load failed.
  if (code == CURLE_FAILED_INIT) return lib.error.c_str();
  return "libcurl error (libcurl could not be loaded, so its message is not known)";
}

CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
  auto f = curl().curl_easy_setopt;
  if (!f) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  CURLcode r = forward_option(f, h, option, ap);
  va_end(ap);
  return r;
}

CURLMcode curl_multi_setopt(CURLM* m, CURLMoption option, ...) {
  auto f = curl().curl_multi_setopt;
  if (!f) return CURLM_BAD_HANDLE;
  va_list ap;
  va_start(ap, option);
  CURLMcode r = forward_option(f, m, option, ap);
  va_end(ap);
  return r;
}

// Every CURLINFO_* takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
  auto f = curl().curl_easy_getinfo;
  if (!f) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode r = f(h, info, va_arg(ap, void*));
  va_end(ap);
  return r;
}

// Share options have no type ranges: SHARE and UNSHARE take an int (curl_lock_data), the
// lock functions a function pointer, USERDATA a data pointer.
CURLSHcode curl_share_setopt(CURLSH* s, CURLSHoption option, ...) {
  auto f = curl().curl_share_setopt;
  if (!f) return CURLSHE_INVALID;
  va_list ap;
  va_start(ap, option);
  CURLSHcode r;
  switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE: r = f(s, option, va_arg(ap, int)); break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC: r = f(s, option, va_arg(ap, void (*)())); break;
    default: r = f(s, option, va_arg(ap, void*)); break;
  }
  va_end(ap);
  return r;
}

}  // extern "C"
