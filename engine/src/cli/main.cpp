// The `syndic` command: a thin shell over the libraries. Subcommands live in their own files.

#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace {
constexpr const char* version_line = "syndic 0.1.0";

// For answers that only print (--version, --help): out through _Exit once the output is
// flushed, without running every static destructor in the program (CLI11's validators,
// Asio's and libstdc++'s tables...), which is a few percent of such a run.
[[noreturn]] void finish(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}
}  // namespace

int main(int argc, char** argv) {
  // `syndic --version` is what scripts and package checks run most: answered before the
  // command line parser and its subcommands are built (and without its exception path).
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::puts(version_line);
    finish(0);
  }
  CLI::App app{
      "syndic: a feed syndication engine.\n"
      "Reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1; writes RSS 2.0, Atom 1.0 "
      "and JSON Feed 1.1.\n\n"
      "Examples:\n"
      "  syndic convert --to atom feed.xml        convert a feed to Atom 1.0\n"
      "  curl -s URL | syndic convert --to json -  inspect any feed as JSON\n"
      "  syndic sink --listen 127.0.0.1:9000-9009  play 10 outlets\n"
      "  syndic feeds --count 100 --rate 10       play 100 source feeds\n"
      "  syndic push --outlets outlets.csv feed.xml deliver a feed to outlets\n",
      "syndic"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version_line));
  // `syndic NAME ...` builds only NAME's options (each command has dozens, and `run` most):
  // `syndic convert` does not pay for push's, sink's and run's. Anything else (`--help`, an
  // unknown word) gets them all.
  struct entry {
    const char* name;
    syndic::cli::command (*add)(CLI::App&);
    syndic::cli::command run;
  };
  entry commands[] = {{"convert", syndic::cli::add_convert, {}},
                      {"push", syndic::cli::add_push, {}},
                      {"sink", syndic::cli::add_sink, {}},
                      {"feeds", syndic::cli::add_feeds, {}},
                      {"loadtest", syndic::cli::add_loadtest, {}},
                      {"run", syndic::cli::add_run, {}},
                      {"store", syndic::cli::add_store, {}}};
  bool named = false;
  for (entry& c : commands)
    if (argc > 1 && std::strcmp(argv[1], c.name) == 0) {
      c.run = c.add(app);
      named = true;
    }
  if (!named)
    for (entry& c : commands) c.run = c.add(app);

  // Name an unknown command plainly instead of CLI11's "a subcommand is required".
  auto is_command = [&](const char* name) {
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->check_name(name)) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::cerr << "syndic: unknown command '" << argv[1] << "'\n";
    std::cerr << "Run 'syndic --help' for the list of commands.\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    finish(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    finish(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    finish(app.exit(e));
  } catch (const CLI::ParseError& e) {
    // A wrong flag or a missing argument: say what, then how to get help. Exit 2 (usage).
    std::cerr << "syndic: " << e.what() << "\n";
    std::cerr << "Run 'syndic --help' or 'syndic <command> --help' for usage.\n";
    return 2;
  }
  for (entry& c : commands)
    if (c.run && app.got_subcommand(c.name)) return c.run();
  return 2;
}
