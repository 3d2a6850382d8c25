// `syndic convert [--to rss|atom|json] [--base URL] [--charset NAME] FILE|-`

#include "cli/commands.hpp"
#include "cli/huge_pages.hpp"
#include "cli/pretty_json.hpp"
#include "cli/read_file.hpp"

#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace syndic::cli {
namespace {

struct convert_options {
  std::string input;
  std::string to = "json";
  formats::parse_options parse;
  bool quiet = false;
  bool pretty = false;
};

int run_convert(const convert_options& o) {
  std::string error;
  auto bytes = read_input(o.input, o.parse.max_bytes, error);
  if (!bytes) {
    std::cerr << "syndic convert: " << error << "\n";
    return 1;
  }
  prepare_heap_for(bytes->view().size());
  formats::parse_result result = formats::parse(bytes->view(), o.parse);
  std::string name = o.input == "-" ? "<stdin>" : o.input;
  for (const auto& d : result.diagnostics) {
    if (o.quiet && d.level == formats::severity::warning) continue;
    std::cerr << name << (d.line ? ":" : ": ") << formats::format_diagnostic(d) << '\n';
  }
  if (!result.ok()) {
    std::cerr << "syndic convert: " << name << ": no feed could be read\n";
    return 1;
  }
  auto format = formats::output_format_from_string(o.to);
  std::string out = formats::render(*result.value, *format);
  if (o.pretty && *format == formats::output_format::json) out = pretty_json(out);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::cerr << "syndic convert: cannot write the output\n";
    return 1;
  }
  return 0;
}

}  // namespace

command add_convert(CLI::App& app) {
  auto o = std::make_shared<convert_options>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Read one feed (any RSS, Atom or JSON Feed version, detected by content) and write it "
      "to stdout as RSS 2.0, Atom 1.0 or JSON Feed 1.1.\n"
      "Broken feeds are recovered: every readable item is kept and each problem is reported "
      "on stderr as FILE:LINE:COLUMN: severity[code]: message.\n"
      "Exit status: 0 when a feed was read (even with recovered errors), 1 when the input "
      "holds no feed or cannot be read, 2 on a usage error.");
  cmd->add_option("input", o->input, "Feed file to read, or - for stdin")->required();
  cmd->add_option("--to", o->to,
                  "Output format: rss (RSS 2.0), atom (Atom 1.0) or json (JSON Feed 1.1 with "
                  "a _syndic extension object; see docs/json-output.md)")
      ->check(CLI::IsMember({"rss", "atom", "json"}))
      ->capture_default_str();
  cmd->add_option("--base", o->parse.document_url,
                  "URL the feed was fetched from: the base for relative links");
  cmd->add_option("--charset", o->parse.transport_charset,
                  "Charset from the transport (an HTTP Content-Type); overrides the XML "
                  "declaration but not a byte-order mark");
  cmd->add_option("--max-bytes", o->parse.max_bytes, "Largest input accepted")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-items", o->parse.max_items, "Items kept; the rest are dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-depth", o->parse.max_depth, "Deepest element nesting read")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "Report errors only, not warnings");
  cmd->add_flag("--pretty", o->pretty, "Indent JSON output for reading");
  return [o] { return run_convert(*o); };
}

}  // namespace syndic::cli
