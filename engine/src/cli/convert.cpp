// `syndic convert [--to rss|atom|json] [--base URL] [--charset NAME] [--jsonl] FILE|-...`

#include "cli/commands.hpp"
#include "cli/huge_pages.hpp"
#include "cli/json_string.hpp"
#include "cli/pretty_json.hpp"
#include "cli/read_file.hpp"

#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

namespace syndic::cli {
namespace {

struct convert_options {
  std::vector<std::string> inputs;
  std::string to = "json";
  formats::parse_options parse;
  bool quiet = false;
  bool pretty = false;
  bool jsonl = false;
};

// One input converted: what a run prints, kept apart so that --jsonl can wrap it.
struct conversion {
  int status = 0;                         // 0: a feed was read; 1: none, or unreadable
  std::vector<std::string> diagnostics;   // "FILE:LINE:COL: severity[code]: message"
  std::string output;                     // the rendered feed, when status is 0
  double ms = 0;                          // reading, parsing and rendering it
};

conversion convert_untimed(const std::string& input, const convert_options& o, bool one_shot) {
  conversion c;
  std::string error;
  auto bytes = read_input(input, o.parse.max_bytes, error);
  if (!bytes) {
    c.status = 1;
    c.diagnostics.push_back("syndic convert: " + error);
    return c;
  }
  if (one_shot) prepare_heap_for(bytes->view().size());
  formats::parse_result result = formats::parse(bytes->view(), o.parse);
  std::string name = input == "-" ? "<stdin>" : input;
  for (const auto& d : result.diagnostics) {
    if (o.quiet && d.level == formats::severity::warning) continue;
    c.diagnostics.push_back(name + (d.line ? ":" : ": ") + formats::format_diagnostic(d));
  }
  if (!result.ok()) {
    c.status = 1;
    c.diagnostics.push_back("syndic convert: " + name + ": no feed could be read");
    return c;
  }
  auto format = formats::output_format_from_string(o.to);
  std::vector<formats::diagnostic> notes;  // what the renderer had to leave out
  c.output = formats::render(*result.value, *format, &notes);
  for (const auto& d : notes)
    if (!o.quiet) c.diagnostics.push_back(name + ": " + formats::format_diagnostic(d));
  if (o.pretty && *format == formats::output_format::json) c.output = pretty_json(c.output);
  return c;
}

conversion convert_one(const std::string& input, const convert_options& o, bool one_shot) {
  auto start = std::chrono::steady_clock::now();
  conversion c = convert_untimed(input, o, one_shot);
  c.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return c;
}

bool write_out(std::string_view text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
}

// {"input":..., "status":0|1, "ms":..., "diagnostics":[...], "feed":<JSON Feed object, or the RSS/Atom
// text as a string, or null>}: one line per input, in input order.
std::string jsonl_record(const std::string& input, const conversion& c, bool json_output) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", c.ms);
  std::string line = "{\"input\":" + json_string(input) + ",\"status\":" + std::to_string(c.status) +
                     ",\"ms\":" + ms + ",\"diagnostics\":[";
  for (std::size_t i = 0; i < c.diagnostics.size(); ++i) {
    if (i) line += ',';
    line += json_string(c.diagnostics[i]);
  }
  line += "],\"feed\":";
  if (c.status != 0) line += "null";
  else if (json_output) line.append(c.output, 0, c.output.find_last_not_of('\n') + 1);
  else line += json_string(c.output);
  return line + "}\n";
}

int run_convert(const convert_options& o) {
  if (o.inputs.size() > 1 && !o.jsonl) {
    std::cerr << "syndic convert: several inputs need --jsonl (one JSON record per input)\n"
              << "Run 'syndic convert --help' for usage.\n";
    return 2;
  }
  if (!o.jsonl) {
    conversion c = convert_one(o.inputs.front(), o, true);
    for (const auto& d : c.diagnostics) std::cerr << d << '\n';
    if (c.status != 0) return c.status;
    if (!write_out(c.output) || std::fflush(stdout) != 0) {
      std::cerr << "syndic convert: cannot write the output\n";
      return 1;
    }
    return 0;
  }
  bool json_output = o.to == "json";
  int status = 0;
  for (const auto& input : o.inputs) {
    conversion c = convert_one(input, o, false);
    status = std::max(status, c.status);
    if (!write_out(jsonl_record(input, c, json_output))) {
      std::cerr << "syndic convert: cannot write the output\n";
      return 1;
    }
  }
  return std::fflush(stdout) == 0 ? status : 1;
}

}  // namespace

command add_convert(CLI::App& app) {
  auto o = std::make_shared<convert_options>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Read one feed (any RSS, Atom or JSON Feed version, detected by content) and write it "
      "to stdout as RSS 2.0, Atom 1.0 or JSON Feed 1.1; with --jsonl, read many and write "
      "one JSON record per input.\n"
      "Broken feeds are recovered: every readable item is kept and each problem is reported "
      "on stderr as FILE:LINE:COLUMN: severity[code]: message.\n"
      "Exit status: 0 when a feed was read (even with recovered errors), 1 when the input "
      "holds no feed or cannot be read (with --jsonl: any input), 2 on a usage error.");
  cmd->add_option("input", o->inputs, "Feed files to read, or - for stdin")->required();
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
  CLI::Option* pretty = cmd->add_flag("--pretty", o->pretty, "Indent JSON output for reading");
  cmd->add_flag("--jsonl", o->jsonl,
                "One line per input: {\"input\", \"status\" (0 or 1), \"ms\" (time taken), \"diagnostics\" (the lines "
                "stderr would get), \"feed\" (the JSON Feed object, or the RSS/Atom text, or null)}")
      ->excludes(pretty);
  return [o] { return run_convert(*o); };
}

}  // namespace syndic::cli
