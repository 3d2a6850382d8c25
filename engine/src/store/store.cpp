// The backend-independent part of the store: names, and the blocking forms of the writes
// (a promise fulfilled by the completion, on the writer thread).

#include <syndic/engine/store.hpp>

#include <future>

namespace syndic::engine {

std::string_view to_string(store_errc e) {
  switch (e) {
    case store_errc::ok: return "ok";
    case store_errc::not_a_store: return "not_a_store";
    case store_errc::unwritable: return "unwritable";
    case store_errc::newer_schema: return "newer_schema";
    case store_errc::io_error: return "io_error";
    case store_errc::busy: return "busy";
    case store_errc::closed: return "closed";
    case store_errc::fenced: return "fenced";
    case store_errc::invalid_argument: return "invalid_argument";
  }
  return "unknown";
}

std::string_view to_string(circuit_mode m) {
  switch (m) {
    case circuit_mode::closed: return "closed";
    case circuit_mode::open: return "open";
    case circuit_mode::half_open: return "half_open";
  }
  return "unknown";
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

store_result<appended> store::append_sync(append_request request) {
  std::promise<store_result<appended>> p;
  auto f = p.get_future();
  append(std::move(request), [&p](store_result<appended> r) { p.set_value(std::move(r)); });
  return f.get();
}

store_status store::write_sync(std::vector<write_op> ops, std::optional<fence> guard) {
  std::promise<store_status> p;
  auto f = p.get_future();
  write(std::move(ops), std::move(guard), [&p](store_status s) { p.set_value(std::move(s)); });
  return f.get();
}

store_result<std::optional<lease>> store::acquire_lease_sync(std::string name, std::string owner,
                                                             std::chrono::milliseconds ttl) {
  std::promise<store_result<std::optional<lease>>> p;
  auto f = p.get_future();
  acquire_lease(std::move(name), std::move(owner), ttl,
                [&p](store_result<std::optional<lease>> r) { p.set_value(std::move(r)); });
  return f.get();
}

store_result<std::optional<lease>> store::renew_lease_sync(lease held, std::chrono::milliseconds ttl) {
  std::promise<store_result<std::optional<lease>>> p;
  auto f = p.get_future();
  renew_lease(std::move(held), ttl,
              [&p](store_result<std::optional<lease>> r) { p.set_value(std::move(r)); });
  return f.get();
}

store_status store::release_lease_sync(lease held) {
  std::promise<store_status> p;
  auto f = p.get_future();
  release_lease(std::move(held), [&p](store_status s) { p.set_value(std::move(s)); });
  return f.get();
}

}  // namespace syndic::engine
