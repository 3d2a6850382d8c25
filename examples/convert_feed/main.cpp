// Embedding syndic::formats: read any feed from stdin, print what it holds, write Atom.
//   convert_feed < feed.xml

#include <syndic/formats/parse.hpp>
#include <syndic/formats/render.hpp>

#include <iostream>
#include <iterator>
#include <string>

int main() {
  std::string bytes{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  syndic::formats::parse_result result = syndic::formats::parse(bytes);
  for (const auto& d : result.diagnostics) std::cerr << format_diagnostic(d) << '\n';
  if (!result.ok()) return 1;
  const syndic::formats::feed& feed = *result.value;
  std::cerr << to_string(feed.format) << ": \"" << feed.title << "\", " << feed.items.size()
            << " items\n";
  std::cout << syndic::formats::render(feed, syndic::formats::output_format::atom);
  return 0;
}
