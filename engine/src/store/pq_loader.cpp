// libpq, loaded on first use. syndic_engine does not link libpq: this file defines the PQ*
// functions the PostgreSQL store calls as trampolines that dlopen libpq once, on the first
// call from any thread, and forward to the real ones (as curl_loader.cpp does for libcurl).
//
// Why: Debian's libpq brings 20+ shared libraries (kerberos, ldap, gnutls/openssl, sasl...)
// whose loading costs every process start, and only a process that opens a PostgreSQL store
// needs it. `syndic convert`, `sink`, `--help` and a SQLite-backed `run` pay nothing.
//
// When libpq cannot be loaded, nothing fails at start: PQconnectdbParams returns null and the
// store's open says why (syndic_libpq_load_error()). SYNDIC_LIBPQ names another library file
// to load (tests use it to make the load fail).
//
// Thread-safety: the library is loaded in a function-local static; afterwards the table of
// function pointers is only read.

#include "dl/trampoline.hpp"

#include <libpq-fe.h>

#include <string>

#ifndef SYNDIC_LIBPQ_SONAME
#define SYNDIC_LIBPQ_SONAME "libpq.so.5"
#endif

namespace {

// Every function forwarded: name, (parameters), (arguments), what to return without libpq.
// A function the store starts calling must be added here (the link fails until it is).
#define SYNDIC_PQ_FUNCTIONS(X)                                                                 \
  X(PQconnectdbParams, (const char* const* k, const char* const* v, int expand), (k, v, expand), \
    nullptr)                                                                                   \
  X(PQfinish, (PGconn * c), (c), )                                                             \
  X(PQstatus, (const PGconn* c), (c), CONNECTION_BAD)                                          \
  X(PQtransactionStatus, (const PGconn* c), (c), PQTRANS_UNKNOWN)                              \
  X(PQerrorMessage, (const PGconn* c), (c), const_cast<char*>("libpq could not be loaded"))    \
  X(PQserverVersion, (const PGconn* c), (c), 0)                                                \
  X(PQbackendPID, (const PGconn* c), (c), 0)                                                   \
  X(PQsetNoticeProcessor, (PGconn * c, PQnoticeProcessor p, void* arg), (c, p, arg), nullptr)  \
  X(PQexec, (PGconn * c, const char* q), (c, q), nullptr)                                      \
  X(PQexecParams,                                                                              \
    (PGconn * c, const char* q, int n, const Oid* types, const char* const* values,            \
     const int* lengths, const int* formats, int result_format),                               \
    (c, q, n, types, values, lengths, formats, result_format), nullptr)                        \
  X(PQprepare, (PGconn * c, const char* name, const char* q, int n, const Oid* types),         \
    (c, name, q, n, types), nullptr)                                                           \
  X(PQexecPrepared,                                                                            \
    (PGconn * c, const char* name, int n, const char* const* values, const int* lengths,       \
     const int* formats, int result_format),                                                   \
    (c, name, n, values, lengths, formats, result_format), nullptr)                            \
  X(PQputCopyData, (PGconn * c, const char* buf, int n), (c, buf, n), -1)                    \
  X(PQputCopyEnd, (PGconn * c, const char* err), (c, err), -1)                                 \
  X(PQgetResult, (PGconn * c), (c), nullptr)                                                   \
  X(PQresultStatus, (const PGresult* r), (r), PGRES_FATAL_ERROR)                               \
  X(PQresultErrorMessage, (const PGresult* r), (r),                                            \
    const_cast<char*>("libpq could not be loaded"))                                            \
  X(PQresultErrorField, (const PGresult* r, int code), (r, code), nullptr)                     \
  X(PQclear, (PGresult * r), (r), )                                                            \
  X(PQntuples, (const PGresult* r), (r), 0)                                                    \
  X(PQnfields, (const PGresult* r), (r), 0)                                                    \
  X(PQgetvalue, (const PGresult* r, int row, int col), (r, row, col), nullptr)                 \
  X(PQgetlength, (const PGresult* r, int row, int col), (r, row, col), 0)                      \
  X(PQfformat, (const PGresult* r, int col), (r, col), 0)                                     \
  X(PQgetisnull, (const PGresult* r, int row, int col), (r, row, col), 1)                      \
  X(PQcmdTuples, (PGresult * r), (r), const_cast<char*>(""))                                   \
  X(PQconninfoParse, (const char* s, char** err), (s, err), nullptr)                           \
  X(PQconninfoFree, (PQconninfoOption * o), (o), )                                             \
  X(PQfreemem, (void* p), (p), )                                                               \
  X(PQlibVersion, (void), (), 0)

struct libpq {
  void* handle = nullptr;
  std::string error;  // why dlopen failed, as a whole sentence
  SYNDIC_PQ_FUNCTIONS(SYNDIC_DL_POINTER)
};

libpq load() {
  libpq lib;
  std::string why;
  lib.handle = syndic::dl::open_library("SYNDIC_LIBPQ", SYNDIC_LIBPQ_SONAME, why);
  if (!lib.handle) {
    lib.error = "libpq could not be loaded (" + why + "); a PostgreSQL store needs it (Debian: apt install libpq5)";
    return lib;
  }
#define SYNDIC_PQ_BIND(name, params, args, fallback) syndic::dl::bind(lib.handle, lib.name, #name);
  SYNDIC_PQ_FUNCTIONS(SYNDIC_PQ_BIND)
#undef SYNDIC_PQ_BIND
  return lib;
}

const libpq& pq() {
  static const libpq lib = load();
  return lib;
}

}  // namespace

extern "C" {

#define SYNDIC_PQ_TRAMPOLINE(name, params, args, fallback) SYNDIC_DL_TRAMPOLINE(pq, name, params, args, fallback)
SYNDIC_PQ_FUNCTIONS(SYNDIC_PQ_TRAMPOLINE)
#undef SYNDIC_PQ_TRAMPOLINE

}  // extern "C"

namespace syndic::engine::pg {

// Empty when libpq is loaded (or loads now); else why it could not be.
const std::string& libpq_load_error() { return pq().error; }

}  // namespace syndic::engine::pg
