#include "testkit/feeds_render.hpp"

#include <syndic/formats/render.hpp>

#include <zlib.h>

#include <stdexcept>

namespace syndic::testkit::detail {
namespace {

formats::output_format output(feeds_format f) {
  switch (f) {
    case feeds_format::atom: return formats::output_format::atom;
    case feeds_format::json: return formats::output_format::json;
    default: return formats::output_format::rss;
  }
}

formats::feed model(const feed_entry& e, const page_context& c) {
  formats::feed f;
  f.title = "Feed " + std::to_string(e.index);
  f.link = c.base_url + "/";
  f.self_link = c.self;
  f.id = c.self;
  f.description = "Synthetic feed " + std::to_string(e.index) + " played by syndic feeds";
  if (!c.hub.empty()) f.hubs.push_back(c.hub);
  f.updated = formats::timestamp{c.start_ms, 0};
  f.ttl_minutes = c.ttl_minutes;
  f.update_period_seconds = c.update_period_seconds;
  return f;
}

constexpr std::string_view rss_head =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>hostile</title>"
    "<link>http://example.invalid/</link><description>hostile</description>\n";

}  // namespace

std::string_view content_type(feeds_format f) { return formats::content_type(output(f)); }

std::string render_page(const feed_entry& e, const std::vector<made_item>& items, const page_context& c) {
  formats::feed f = model(e, c);
  f.items.reserve(items.size());
  for (const made_item& m : items) f.items.push_back(make_item(e.index, m, c.base_url, c.content_bytes));
  if (!items.empty()) f.updated = formats::timestamp{items.front().created_ms, 0};
  return formats::render(f, output(e.format));
}

std::string malformed_page(std::string page) {
  page.resize(page.size() / 2);
  return page;
}

hostile_body make_hostile(hostile_shape s, feeds_format format, const page_context& c) {
  hostile_body out;
  std::string& b = out.body;
  switch (s) {
    case hostile_shape::deep: {
      constexpr std::size_t depth = 100'000;
      if (format == feeds_format::json) {
        out.format = feeds_format::json;
        b = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"deep\",\"items\":[{\"id\":\"deep\","
            "\"content_text\":\"deep\",\"_deep\":";
        b.append(depth, '[');
        b.append(depth, ']');
        b += "}]}";
        break;
      }
      b = rss_head;
      b += "<item><title>deep</title><guid>urn:syndic:feeds:deep</guid><description>";
      for (std::size_t i = 0; i < depth; ++i) b += "<d>";
      for (std::size_t i = 0; i < depth; ++i) b += "</d>";
      b += "</description></item></channel></rss>\n";
      break;
    }
    case hostile_shape::entities: {
      // Ten levels of ten: &a9; is 10^9 copies of "lol" to a parser that expands naively.
      b = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE rss [\n<!ENTITY a0 \"lol\">\n";
      for (int level = 1; level < 10; ++level) {
        b += "<!ENTITY a" + std::to_string(level) + " \"";
        for (int i = 0; i < 10; ++i) b += "&a" + std::to_string(level - 1) + ";";
        b += "\">\n";
      }
      b += "]>\n<rss version=\"2.0\"><channel><title>&a9;</title><link>http://example.invalid/</link>"
           "<description>&a9;</description><item><title>&a9;</title><guid>urn:syndic:feeds:entities</guid>"
           "<description>&a9;</description></item></channel></rss>\n";
      break;
    }
    case hostile_shape::prefixes: {
      b = rss_head;
      b.reserve(b.size() + 80'000 * 6 + 200);
      for (int i = 0; i < 80'000; ++i) b += "<x:a/>";
      b += "\n<item><title>prefixes</title><guid>urn:syndic:feeds:prefixes</guid></item></channel></rss>\n";
      break;
    }
    case hostile_shape::huge: {
      out.format = format;
      feed_entry e;
      e.index = 0;
      e.format = format;
      page_context big = c;
      big.content_bytes = 8000;
      std::vector<made_item> items;
      for (std::uint64_t k = 0; k < 1000; ++k) items.push_back({1000 - k, c.start_ms});
      b = render_page(e, items, big);
      break;
    }
  }
  return out;
}

std::string gzip_compress(std::string_view in) {
  z_stream z{};
  // 15 + 16: a gzip wrapper; level 6 as servers default to.
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

}  // namespace syndic::testkit::detail
