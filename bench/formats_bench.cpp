// Parse and render throughput of syndic::formats, single core.
//
// Inputs: the corpus's synthetic 500-item feeds (../shared/corpus/synthetic) when present,
// and larger feeds generated here (5,000 items, the same shape in RSS, Atom and JSON Feed).
// Every timed operation is checked once against a reference before timing, so that a fast
// wrong answer cannot win: item counts, the first and last ids and titles must match.
//
//   build/bench/formats_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <syndic/formats/dates.hpp>
#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

using namespace syndic::formats;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A realistic press-wire item: a title, a link, an id, dates, an author, two categories and
// about 1 KiB of HTML in the summary and 3 KiB in the content.
feed generated_feed(std::size_t items) {
  feed f;
  f.title = "Generated Wire";
  f.link = "https://wire.example/";
  f.self_link = "https://wire.example/feed";
  f.description = "Synthetic benchmark feed";
  f.language = "en";
  f.updated = timestamp{1'764'000'000'000, 60};
  std::string paragraph =
      "<p>Acme Corp. (NASDAQ: ACME) today announced results for the third quarter, with "
      "revenue of <b>$1.2 billion</b>, up 12% from a year earlier &amp; a record margin. "
      "&quot;We delivered again,&quot; said the CEO. <a href=\"https://acme.example/ir\">"
      "Investor relations</a> will host a call at 10:00 ET.</p>\n";
  for (std::size_t i = 0; i < items; ++i) {
    item it;
    it.id = "urn:wire:" + std::to_string(100000 + i);
    it.title = "Release " + std::to_string(i) + ": Acme reports Q3 results & outlook";
    it.links.push_back(syndic::formats::link{"https://wire.example/releases/" + std::to_string(i), "alternate", {}, {}, {}, {}});
    it.summary_type = text_type::html;
    for (int k = 0; k < 3; ++k) it.summary += paragraph;
    for (int k = 0; k < 9; ++k) it.content += paragraph;
    it.published = timestamp{1'764'000'000'000 - static_cast<std::int64_t>(i) * 60'000, 60};
    it.updated = it.published;
    it.authors.push_back(person{"Acme Press Office", "press@acme.example", {}});
    it.categories.push_back(category{"Earnings", {}, {}});
    it.categories.push_back(category{"Technology", {}, {}});
    f.items.push_back(std::move(it));
  }
  return f;
}

struct input {
  std::string bytes;
  std::size_t items = 0;
  std::string first_id, last_id;
};

std::map<std::string, input>& inputs() {
  static std::map<std::string, input> m;
  return m;
}

void verify_or_die(const std::string& name, const input& in) {
  parse_result r = parse(in.bytes);
  auto fail = [&](const std::string& why) {
    std::cerr << "reference check failed for " << name << ": " << why << "\n";
    std::exit(1);
  };
  if (!r.ok()) fail("no feed");
  if (r.value->items.size() != in.items) fail("item count " + std::to_string(r.value->items.size()));
  if (!in.first_id.empty() && r.value->items.front().id != in.first_id) fail("first id " + r.value->items.front().id);
  if (!in.last_id.empty() && r.value->items.back().id != in.last_id) fail("last id " + r.value->items.back().id);
}

void add_input(const std::string& name, std::string bytes) {
  parse_result r = parse(bytes);
  if (!r.ok()) return;
  input in{std::move(bytes), r.value->items.size(), {}, {}};
  if (!r.value->items.empty()) {
    in.first_id = r.value->items.front().id;
    in.last_id = r.value->items.back().id;
  }
  inputs()[name] = std::move(in);
}

void BM_parse(benchmark::State& state, const std::string& name) {
  const input& in = inputs().at(name);
  verify_or_die(name, in);
  parse_options o;
  for (auto _ : state) {
    parse_result r = parse(in.bytes, o);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.items));
}

void BM_render(benchmark::State& state, const std::string& name, output_format fmt) {
  const input& in = inputs().at(name);
  feed f = *parse(in.bytes).value;
  std::string out = render(f, fmt);
  // Reference: what we render must read back with the same items.
  input check{out, in.items, in.first_id, in.last_id};
  verify_or_die(name + " rendered as " + std::string(to_string(fmt)), check);
  std::size_t bytes = out.size();
  for (auto _ : state) {
    out.clear();  // keeps capacity, as a server reusing its buffer would
    switch (fmt) {
      case output_format::rss: render_rss(f, out); break;
      case output_format::atom: render_atom(f, out); break;
      case output_format::json: render_json(f, out); break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.items.size()));
}

}  // namespace

// `formats_bench --write-feeds DIR` writes the generated feeds as files (for the side-by-side
// comparison with feedparser in bench/compare_feedparser.py) and exits.
bool write_feeds(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--write-feeds") return false;
  feed big = generated_feed(5000);
  for (auto [name, fmt] : {std::pair{"generated-rss-5000.xml", output_format::rss},
                           std::pair{"generated-atom-5000.xml", output_format::atom},
                           std::pair{"generated-json-5000.json", output_format::json}}) {
    std::ofstream(std::string(argv[2]) + "/" + name, std::ios::binary) << render(big, fmt);
  }
  return true;
}

int main(int argc, char** argv) {
  if (write_feeds(argc, argv)) return 0;
  std::string corpus = SYNDIC_CORPUS_DIR "/synthetic/";
  for (auto [name, file] : {std::pair{"corpus/rss2-500", "rss2-500.xml"},
                            std::pair{"corpus/atom-500", "atom-500.xml"},
                            std::pair{"corpus/jsonfeed-500", "jsonfeed-500.json"}}) {
    std::string bytes = read_file(corpus + file);
    if (bytes.empty()) {
      std::cerr << "note: " << corpus << file << " not found; benchmarking generated feeds only\n";
      continue;
    }
    add_input(name, std::move(bytes));
  }
  feed big = generated_feed(5000);
  add_input("generated/rss-5000", render(big, output_format::rss));
  add_input("generated/atom-5000", render(big, output_format::atom));
  add_input("generated/json-5000", render(big, output_format::json));

  for (const auto& [name, in] : inputs()) {
    benchmark::RegisterBenchmark(("parse/" + name).c_str(), BM_parse, name)->Unit(benchmark::kMillisecond);
  }
  for (const auto& [name, in] : inputs()) {
    for (auto fmt : {output_format::rss, output_format::atom, output_format::json})
      benchmark::RegisterBenchmark(("render/" + std::string(to_string(fmt)) + "/" + name).c_str(),
                                   BM_render, name, fmt)
          ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
