// `syndic store`: the shared store, by hand.
//   syndic store migrate --store postgres://...   creates or migrates the schema, and says so
//   syndic store status  --store postgres://...   the log's head, the live instances, who holds
//                                                 which partitions
// Exit codes: 0 done, 1 the store could not be reached or used (the message says why), 2 usage.

#include "cli/commands.hpp"
#include "daemon/text.hpp"

#include <syndic/engine/store.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

namespace syndic::cli {
namespace {

struct store_flags {
  std::string url;
  std::string schema = "syndic";
};

// --store, else SYNDIC_STORE (a URL with a password need not be on the command line).
bool resolve_url(store_flags& f, const char* command) {
  if (f.url.empty())
    if (const char* env = std::getenv("SYNDIC_STORE")) f.url = env;
  if (f.url.empty()) {
    std::cerr << "syndic store " << command << ": no store: give --store postgres://... or set SYNDIC_STORE\n";
    return false;
  }
  if (!engine::is_postgres_url(f.url)) {
    std::cerr << "syndic store " << command << ": --store: expected a postgres:// or postgresql:// URL, got "
              << daemon::quote_value(daemon::redact_url(f.url)) << " (the SQLite store migrates itself when `syndic run` opens it)\n";
    return false;
  }
  return true;
}

int migrate(store_flags f) {
  if (!resolve_url(f, "migrate")) return 2;
  auto r = engine::migrate_postgres_store(f.url, f.schema);
  if (!r.ok()) {
    std::cerr << "syndic store migrate: " << r.status.message << "\n";
    return 1;
  }
  std::cout << "schema '" << f.schema << "' at " << daemon::redact_url(f.url) << ": ";
  if (r.value.from_version == r.value.to_version) std::cout << "already at version " << r.value.to_version << "\n";
  else if (r.value.from_version == 0) std::cout << "created at version " << r.value.to_version << "\n";
  else std::cout << "migrated from version " << r.value.from_version << " to " << r.value.to_version << "\n";
  return 0;
}

int status(store_flags f) {
  if (!resolve_url(f, "status")) return 2;
  engine::postgres_options o;
  o.schema = f.schema;
  auto opened = engine::open_postgres_store(f.url, o);
  if (!opened.ok()) {
    std::cerr << "syndic store status: " << opened.status.message << "\n";
    return 1;
  }
  engine::store& db = *opened.value;
  auto head = db.head();
  auto members = db.leases("member/");
  auto partitions = db.leases("partition/");
  if (!head.ok() || !members.ok() || !partitions.ok()) {
    std::cerr << "syndic store status: "
              << (!head.ok() ? head.status.message : !members.ok() ? members.status.message : partitions.status.message)
              << "\n";
    return 1;
  }
  // Expiry is judged against the newest expiry seen minus nothing: the store has no "now"
  // read, so a lease is shown with its expiry and the reader compares with the clock.
  auto now = engine::store_clock::now();
  auto left_ms = [&](const engine::lease& l) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(l.expires - now).count();
  };
  std::cout << "log head: " << head.value << "\n";
  std::cout << "instances:\n";
  std::size_t live = 0;
  for (const auto& m : members.value) {
    if (m.owner.empty()) continue;
    bool alive = left_ms(m) > 0;
    live += alive;
    std::cout << "  " << m.owner << (alive ? "  live, heartbeat expires in " + std::to_string(left_ms(m)) + " ms"
                                           : "  gone (heartbeat expired)")
              << "\n";
  }
  std::map<std::string, std::size_t> held;
  std::size_t unowned = 0;
  for (const auto& p : partitions.value) {
    if (p.owner.empty() || left_ms(p) <= 0) ++unowned;
    else ++held[p.owner];
  }
  std::cout << "partitions (" << partitions.value.size() << " leases):\n";
  for (const auto& [owner, n] : held) std::cout << "  " << owner << ": " << n << "\n";
  std::cout << "  unowned or expired: " << unowned << "\n";
  std::cout << live << " live instance" << (live == 1 ? "" : "s") << "\n";
  db.close();
  return 0;
}

}  // namespace

command add_store(CLI::App& app) {
  auto* cmd = app.add_subcommand("store",
                                 "The shared PostgreSQL store, by hand.\n\n"
                                 "Examples:\n"
                                 "  syndic store migrate --store postgres://syndic@db.example/wire\n"
                                 "  SYNDIC_STORE=postgres://... syndic store status\n");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<store_flags>();
  auto add_common = [&flags](CLI::App* sub) {
    sub->add_option("--store", flags->url, "the store's postgres:// URL (default: $SYNDIC_STORE)")->type_name("URL");
    sub->add_option("--store-schema", flags->schema, "the schema of syndic's tables")->type_name("NAME")->capture_default_str();
  };
  auto* m = cmd->add_subcommand("migrate", "create or migrate syndic's tables, then exit (`syndic run` does it too)");
  add_common(m);
  auto* s = cmd->add_subcommand("status", "the log's head, the live instances and who holds which partitions");
  add_common(s);
  return [flags, m, s]() -> int {
    if (m->parsed()) return migrate(*flags);
    if (s->parsed()) return status(*flags);
    return 2;
  };
}

}  // namespace syndic::cli
