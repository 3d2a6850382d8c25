// Parse and render throughput of syndic::formats, single core.
//
// Inputs: the corpus's synthetic 500-item feeds (../shared/corpus/synthetic) when present,
// and larger feeds generated here (5,000 items, the same shape in RSS, Atom and JSON Feed).
// Every timed operation is checked once against a reference before timing, so that a fast
// wrong answer cannot win: item counts, the first and last ids and titles must match.
//
//   build/bench/formats_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// parse/hostile/* are inputs shaped to make a parser slow (see add_hostile_inputs); compare
// their bytes/s with parse/generated/rss-5000:
//   taskset -c 1 build/bench/formats_bench --benchmark_filter='parse/(hostile|generated/rss)' \
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <syndic/formats/dates.hpp>
#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
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

// --- Hostile shapes ------------------------------------------------------------------------------
// Inputs built to make a parser slow: each should parse at no less than a tenth of the bytes
// per second of the ordinary feed (generated/rss-5000). Each is checked against what it must
// give (item count, a value, the diagnostics and their summary) before it is timed.

struct hostile {
  std::string bytes;
  // Returns what is wrong with the result, or "" when it is right.
  std::function<std::string(const parse_result&)> check;
};

std::map<std::string, hostile>& hostiles() {
  static std::map<std::string, hostile> m;
  return m;
}

std::size_t count_code(const parse_result& r, diag_code c) {
  std::size_t n = 0;
  for (const auto& d : r.diagnostics) n += d.code == c;
  return n;
}

// The capped diagnostics of `code`: 100 listed and one "N more like this".
std::string expect_capped(const parse_result& r, diag_code code, std::size_t total) {
  std::size_t listed = count_code(r, code);
  std::size_t want = std::min<std::size_t>(total, 100) + (total > 100 ? 1 : 0);
  if (listed != want) return std::to_string(listed) + " diagnostics of the code, not " + std::to_string(want);
  return {};
}

std::string expect_items(const parse_result& r, std::size_t n) {
  if (!r.ok()) return "no feed";
  if (r.value->items.size() != n) return "item count " + std::to_string(r.value->items.size());
  return {};
}

std::string rss_doc(const std::string& channel, const std::string& root_attrs = {}) {
  return "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"" + root_attrs +
         "><channel><title>t</title><link>https://h.example/</link>\n" + channel +
         "</channel></rss>\n";
}

void add_hostile_inputs() {
  auto& m = hostiles();
  {  // 80,000 elements with an undeclared prefix (the issue's 480 KB case)
    std::string body;
    for (int i = 0; i < 80'000; ++i) body += "<x:a/>";
    m["undeclared-prefixes"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 0);
      return e.empty() ? expect_capped(r, diag_code::xml, 80'000) : e;
    }};
  }
  {  // 20,000 items with an unparseable date
    std::string body;
    for (int i = 0; i < 20'000; ++i)
      body += "<item><guid>g" + std::to_string(i) + "</guid><pubDate>not a date " +
              std::to_string(i) + "</pubDate></item>\n";
    m["bad-dates"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 20'000);
      return e.empty() ? expect_capped(r, diag_code::date, 20'000) : e;
    }};
  }
  {  // 20,000 items with an enclosure length that is no number
    std::string body;
    for (int i = 0; i < 20'000; ++i)
      body += "<item><guid>g" + std::to_string(i) + "</guid><enclosure url=\"http://e.example/" +
              std::to_string(i) + ".mp3\" length=\"x" + std::to_string(i) + "\"/></item>\n";
    m["bad-numbers"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 20'000);
      return e.empty() ? expect_capped(r, diag_code::value, 20'000) : e;
    }};
  }
  {  // a 1,000-byte declared entity referenced 7,500 times (7.5 MB if expanded without a budget)
    std::string doc = "<!DOCTYPE rss [<!ENTITY e \"" + std::string(1000, 'A') +
                      "\">]>\n<rss version=\"2.0\"><channel><title>t</title><item><title>";
    for (int i = 0; i < 7'500; ++i) doc += "&e;";
    doc += "</title></item></channel></rss>\n";
    std::size_t input = doc.size();
    m["entity-expansion"] = {doc, [input](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      std::size_t got = r.value->items[0].title.size();
      if (got > 3 * input + (64u << 10)) return "title of " + std::to_string(got) + " bytes: over the budget";
      return count_code(r, diag_code::limit) == 1 ? std::string() : std::string("no limit diagnostic");
    }};
  }
  {  // 20,000 items, none closed
    std::string doc = "<rss version=\"2.0\"><channel><title>t</title>\n";
    for (int i = 0; i < 20'000; ++i)
      doc += "<item><guid>g" + std::to_string(i) + "</guid><title>t" + std::to_string(i) + "\n";
    m["unclosed-items"] = {doc, [](const parse_result& r) {
      std::string e = expect_items(r, 20'000);
      if (!e.empty()) return e;
      return r.value->items.back().id == "g19999" && r.value->items.back().title == "t19999"
                 ? std::string() : "last item " + r.value->items.back().id;
    }};
  }
  {  // 200,000 nested elements inside one item (far past max_depth)
    std::string body = "<item><guid>deep</guid>";
    for (int i = 0; i < 200'000; ++i) body += "<x>";
    for (int i = 0; i < 200'000; ++i) body += "</x>";
    body += "</item>\n";
    m["deep-nesting"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      return count_code(r, diag_code::limit) == 1 ? std::string() : std::string("no depth diagnostic");
    }};
  }
  {  // 100 levels (inside the limit) repeated: each leaf's namespace lookup walks its ancestors
    std::string body;
    for (int k = 0; k < 300; ++k) {
      body += "<item><guid>n" + std::to_string(k) + "</guid>";
      for (int i = 0; i < 100; ++i) body += "<x:a>";
      for (int i = 0; i < 100; ++i) body += "<x:b/>";
      for (int i = 0; i < 100; ++i) body += "</x:a>";
      body += "</item>\n";
    }
    m["nesting-within-limit"] = {rss_doc(body, " xmlns:x=\"urn:x\""), [](const parse_result& r) {
      return expect_items(r, 300);
    }};
  }
  {  // one element with 50,000 attributes
    std::string attrs;
    for (int i = 0; i < 50'000; ++i) attrs += " a" + std::to_string(i) + "=\"v" + std::to_string(i) + "\"";
    m["long-attribute-list"] = {rss_doc("<x:y" + attrs + "/>", " xmlns:x=\"urn:x\""),
                                [](const parse_result& r) {
      if (!r.ok() || r.value->extensions.size() != 1) return std::string("no extension");
      const auto& a = r.value->extensions[0].attributes;
      return a.size() == 50'000 && a.back().second == "v49999" ? std::string()
                                                                : std::string("attributes lost");
    }};
  }
  {  // 20,000 namespace declarations on the root, and 20,000 elements resolved against them
    std::string decls, body;
    for (int i = 0; i < 20'000; ++i) decls += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
    for (int i = 0; i < 20'000; ++i) body += "<p" + std::to_string(i) + ":e/>";
    m["many-namespaces"] = {rss_doc(body, decls), [](const parse_result& r) {
      if (!r.ok() || r.value->extensions.size() != 20'000) return std::string("extensions lost");
      return r.value->extensions.back().ns == "urn:p19999" ? std::string() : std::string("wrong ns");
    }};
  }
  {  // a 4 MB text node, half of it entities
    std::string text;
    while (text.size() < (4u << 20)) text += "plain words and &amp; &lt;b&gt; &#233; ";
    m["huge-text-node"] = {rss_doc("<item><guid>big</guid><description>" + text + "</description></item>"),
                           [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      return r.value->items[0].summary.size() > (2u << 20) ? std::string() : std::string("text lost");
    }};
  }
  {  // 200,000 bare ampersands (and a few ';' far away)
    std::string text(200'000, '&');
    m["bare-ampersands"] = {rss_doc("<item><guid>amp</guid><title>" + text + "</title></item>"),
                            [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      return r.value->items[0].title.size() == 200'000 ? std::string() : std::string("text changed");
    }};
  }
  {  // escaped HTML with 100,000 relative links, resolved against a base
    std::string html;
    for (int i = 0; i < 100'000; ++i) html += "&lt;a href=\"p/" + std::to_string(i) + "\"&gt;x&lt;/a&gt; ";
    m["many-relative-links"] = {rss_doc("<item><guid>links</guid><description>" + html + "</description></item>",
                                        " xml:base=\"https://base.example/dir/\""),
                                [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      return r.value->items[0].summary.find("https://base.example/dir/p/99999") != std::string::npos
                 ? std::string() : std::string("links not resolved");
    }};
  }
  {  // a 60 KB xml:base and 20,000 items that each resolve a link against it
    std::string base = "https://base.example/" + std::string(60'000, 'd') + "/";
    std::string body;
    for (int i = 0; i < 20'000; ++i) body += "<item><link>i" + std::to_string(i) + "</link></item>\n";
    m["long-base-many-links"] = {rss_doc(body, " xml:base=\"" + base + "\""), [](const parse_result& r) {
      return expect_items(r, 20'000);
    }};
  }
  {  // windows-1252 bytes labelled as such: the whole document is transcoded
    std::string body;
    for (int i = 0; i < 5'000; ++i)
      body += "<item><guid>w" + std::to_string(i) + "</guid><title>caf\xe9 \x93quoted\x94 \x96 dash</title></item>\n";
    std::string doc = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" + rss_doc(body).substr(22);
    m["windows-1252"] = {doc, [](const parse_result& r) {
      std::string e = expect_items(r, 5'000);
      if (!e.empty()) return e;
      return r.value->items[0].title == "caf\u00e9 \u201cquoted\u201d \u2013 dash" ? std::string()
                                                                                  : "title " + r.value->items[0].title;
    }};
  }
  {  // one item with 50,000 <link>s (each once went to the front of the list)
    std::string body = "<item>";
    for (int i = 0; i < 50'000; ++i) body += "<link>https://l.example/" + std::to_string(i) + "</link>";
    body += "</item>\n";
    m["many-links-in-one-item"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      const auto& links = r.value->items[0].links;
      return links.size() == 50'000 && links[0].href == "https://l.example/49999" ? std::string()
                                                                                 : std::string("links lost");
    }};
  }
  {  // 1,000 pubDates of 2 KB each: the date parser sees long junk
    std::string body;
    for (int i = 0; i < 1'000; ++i)
      body += "<item><guid>d" + std::to_string(i) + "</guid><pubDate>Mon, 01 Jan 2024 " +
              std::string(2'000, '9') + "</pubDate></item>\n";
    m["long-dates"] = {rss_doc(body), [](const parse_result& r) {
      std::string e = expect_items(r, 1'000);
      return e.empty() ? expect_capped(r, diag_code::date, 1'000) : e;
    }};
  }
  {  // JSON Feed: 200 items of 2,000 members each (every member lookup walks the object)
    std::string items;
    for (int i = 0; i < 200; ++i) {
      if (i) items += ',';
      items += R"({"id":")" + std::to_string(i) + "\"";
      for (int k = 0; k < 2'000; ++k) items += ",\"k" + std::to_string(k) + "\":" + std::to_string(k);
      items += "}";
    }
    m["json-wide-items"] = {R"({"version":"https://jsonfeed.org/version/1.1","title":"t","items":[)" + items + "]}",
                            [](const parse_result& r) {
      std::string e = expect_items(r, 200);
      if (!e.empty()) return e;
      return r.value->items.back().id == "199" ? std::string() : std::string("wrong id");
    }};
  }
  {  // RSS 1.0 with 20,000 <channel>s (each one read used to finish the whole feed again)
    std::string doc = R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">)";
    for (int i = 0; i < 20'000; ++i)
      doc += "<channel><title>c" + std::to_string(i) + "</title><x:a xmlns:x=\"urn:x\">v</x:a></channel>\n";
    doc += "</rdf:RDF>\n";
    m["many-channels"] = {doc, [](const parse_result& r) {
      if (!r.ok()) return std::string("no feed");
      return r.value->title == "c0" && r.value->extensions.size() == 1 ? std::string()
                                                                        : "title " + r.value->title;
    }};
  }
  {  // JSON Feed: 20,000 items with unparseable dates
    std::string items;
    for (int i = 0; i < 20'000; ++i) {
      if (i) items += ',';
      items += R"({"id":")" + std::to_string(i) + R"(","date_published":"yesterday )" + std::to_string(i) + "\"}";
    }
    m["json-bad-dates"] = {R"({"version":"https://jsonfeed.org/version/1.1","title":"t","items":[)" + items + "]}",
                           [](const parse_result& r) {
      std::string e = expect_items(r, 20'000);
      return e.empty() ? expect_capped(r, diag_code::date, 20'000) : e;
    }};
  }
  {  // JSON Feed: one item with a 4 MB content_html string full of escapes
    std::string s;
    while (s.size() < (4u << 20)) s += "<p>a \\\"quote\\\" \\u00e9 and a\\nnewline</p>";
    m["json-huge-string"] = {R"({"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","content_html":")" +
                                 s + "\"}]}",
                             [](const parse_result& r) {
      std::string e = expect_items(r, 1);
      if (!e.empty()) return e;
      return r.value->items[0].content.size() > (3u << 20) ? std::string() : std::string("content lost");
    }};
  }
}

void BM_parse_hostile(benchmark::State& state, const std::string& name) {
  const hostile& h = hostiles().at(name);
  if (std::string why = h.check(parse(h.bytes)); !why.empty()) {
    std::cerr << "reference check failed for hostile/" << name << ": " << why << "\n";
    std::exit(1);
  }
  parse_options o;
  for (auto _ : state) {
    parse_result r = parse(h.bytes, o);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * h.bytes.size()));
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
  add_hostile_inputs();
  for (const auto& [name, h] : hostiles())
    benchmark::RegisterBenchmark(("parse/hostile/" + name).c_str(), BM_parse_hostile, name)
        ->Unit(benchmark::kMillisecond);
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
