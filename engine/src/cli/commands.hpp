#pragma once
// Each subcommand registers its options on the shared CLI11 app and returns the function that
// runs it after parsing. Commands return the process exit code.

#include <functional>

namespace CLI {
class App;
}

namespace syndic::cli {

using command = std::function<int()>;

// `syndic convert`: read one feed, write it as RSS 2.0, Atom 1.0 or JSON Feed 1.1.
command add_convert(CLI::App& app);

// `syndic push`: deliver every item of some feeds to every matching outlet.
command add_push(CLI::App& app);

// `syndic sink`: a server playing many outlets, with fault injection.
command add_sink(CLI::App& app);

// `syndic feeds`: a server playing many source feeds, with caching, faults and WebSub.
command add_feeds(CLI::App& app);

// `syndic loadtest`: simulated outlets and publishing, the correctness check, a report.
command add_loadtest(CLI::App& app);

// `syndic run`: the daemon (durable log, delivery, HTTP API).
command add_run(CLI::App& app);

// `syndic store`: migrate the shared PostgreSQL store, and show who holds what.
command add_store(CLI::App& app);

}  // namespace syndic::cli
