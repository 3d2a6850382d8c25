// The XML entry point: charset, well-formedness, root detection and item recovery.

#include "encoding.hpp"
#include "parse_common.hpp"
#include "namespaces.hpp"
#include "text.hpp"
#include "xml_feed.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

namespace syndic::formats {
namespace {

using namespace detail;

// Without parse_escapes: entities reach our decoder, so HTML entities and bare '&' are
// recovered. Without parse_doctype/parse_pi: a DTD is skipped, never expanded (no billion
// laughs, no external entities). parse_ws_pcdata keeps the spaces between inline XHTML
// elements ("<b>a</b> <i>b</i>").
constexpr unsigned xml_flags = pugi::parse_cdata | pugi::parse_eol | pugi::parse_ws_pcdata;

enum class root_kind { none, rss, rdf, atom10, atom03, channel };

root_kind classify_root(const xml_element& e, std::string_view version) {
  // <rss> in any namespace: Userland and Harvard published RSS 2.0 in namespaces of their own.
  if (e.name == "rss") return root_kind::rss;
  if (e.name == "RDF" && e.ns == ns::rdf) return root_kind::rdf;
  if (e.name == "feed" && e.ns == ns::atom10) return root_kind::atom10;
  // Atom 0.3 and its drafts: several namespaces, or none, but always version="0.x".
  if (e.name == "feed" && (e.ns == ns::atom03 || e.ns.empty() || version.starts_with("0.")))
    return root_kind::atom03;
  if (e.name == "channel" && e.ns.empty()) return root_kind::channel;
  return root_kind::none;
}

// Text-only entities of the internal DTD subset: <!ENTITY name "value">. Parameter entities,
// external ones and values holding '&', '%' or '<' are ignored, so nothing can recurse, grow
// (billion laughs) or be fetched.
std::vector<std::pair<std::string, std::string>> internal_entities(std::string_view doc) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t dt = doc.find("<!DOCTYPE");
  if (dt == std::string_view::npos) return out;
  std::size_t open = doc.find('[', dt), gt = doc.find('>', dt);
  if (open == std::string_view::npos || gt < open) return out;
  std::size_t end = doc.find("]>", open);
  if (end == std::string_view::npos) return out;
  std::string_view subset = doc.substr(open + 1, end - open - 1);
  std::size_t resume = 0;
  for (std::size_t p = subset.find("<!ENTITY"); p != std::string_view::npos && out.size() < 64;
       p = subset.find("<!ENTITY", resume)) {
    std::size_t i = p + 8;
    resume = i;
    auto skip_space = [&] {
      while (i < subset.size() && (subset[i] == ' ' || subset[i] == '\t' || subset[i] == '\n' || subset[i] == '\r')) ++i;
    };
    skip_space();
    std::size_t name_start = i;
    while (i < subset.size() && subset[i] != ' ' && subset[i] != '\t' && subset[i] != '\n' && subset[i] != '\r') ++i;
    std::string_view name = subset.substr(name_start, i - name_start);
    resume = std::max(resume, i);  // a name without spaces after it is not scanned again
    if (name.empty() || name == "%") continue;
    skip_space();
    if (i >= subset.size() || (subset[i] != '"' && subset[i] != '\'')) continue;  // SYSTEM/PUBLIC
    char q = subset[i++];
    std::size_t close = subset.find(q, i);
    if (close == std::string_view::npos) break;
    std::string_view value = subset.substr(i, close - i);
    // Whatever happens to the value, the search goes on after it: a declaration quoted inside
    // another's value is no declaration, and no value is scanned twice.
    resume = close + 1;
    if (value.size() > 1024 || value.find_first_of("&%<") != std::string_view::npos) continue;
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

feed_format rss_version(std::string_view v) {
  if (v == "0.91") return feed_format::rss091;
  if (v == "0.92") return feed_format::rss092;
  if (v == "0.93") return feed_format::rss093;
  if (v == "0.94") return feed_format::rss094;
  if (v == "0.90") return feed_format::rss090;
  if (v == "1.0") return feed_format::rss10;
  return feed_format::rss20;  // "2.0", "2.00", "2.0.1", absent: read as 2.0
}

// Finds "<tag" followed by whitespace, '>' or '/' from `from`.
std::size_t find_start_tag(std::string_view doc, std::string_view tag, std::size_t from) {
  while (true) {
    std::size_t p = doc.find(tag, from);
    if (p == std::string_view::npos || p == 0 || doc[p - 1] != '<') {
      if (p == std::string_view::npos) return p;
      from = p + 1;
      continue;
    }
    std::size_t after = p + tag.size();
    if (after >= doc.size()) return std::string_view::npos;
    char c = doc[after];
    if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return p - 1;
    from = after;
  }
}

// Reads each <item>/<entry> of a document that is not well-formed on its own, so that one
// broken item (or a truncated tail) costs that item only. Each chunk is parsed on its own,
// inside a wrapper whose scope is the root's (its namespaces, xml:base and xml:lang). Linear:
// chunks do not overlap, the search for the next close tag is made once and reused until the
// scan passes it, and the root's declarations are not copied into every chunk.
std::vector<item> recover_items(xml_reader& r, std::string_view doc, const xml_scope& root_scope,
                                std::string_view tag, bool atom, bool v03) {
  static constexpr std::string_view open = "<syndic-recovered>";
  static constexpr std::string_view wrapper_close = "</syndic-recovered>";
  std::string close = "</" + std::string(tag) + ">";
  std::vector<item> items;
  std::string chunk;
  std::size_t end = 0;  // the first close tag at or after `pos` (npos: none left)
  bool end_known = false;
  std::size_t pos = find_start_tag(doc, tag, 0);
  std::size_t count = 0;  // items are large: moving 20,000 of them as the vector grows shows
  for (std::size_t p = pos; p != std::string_view::npos && count < r.options().max_items;
       p = find_start_tag(doc, tag, p + 1 + tag.size()))
    ++count;
  items.reserve(count);
  while (pos != std::string_view::npos && items.size() < r.options().max_items) {
    std::size_t next = find_start_tag(doc, tag, pos + 1 + tag.size());
    if (!end_known || (end != std::string_view::npos && end < pos)) {
      end = doc.find(close, pos);
      end_known = true;
    }
    std::size_t stop = end == std::string_view::npos ? doc.size() : end + close.size();
    if (next != std::string_view::npos && next < stop) stop = next;
    chunk.assign(open);
    chunk.append(doc.substr(pos, stop - pos));
    chunk.append(wrapper_close);
    pugi::xml_document d;  // parses `chunk` in place: its capacity is reused, chunk to chunk
    d.load_buffer_inplace(chunk.data(), chunk.size(), xml_flags, pugi::encoding_utf8);
    r.set_node_shift(static_cast<std::ptrdiff_t>(pos) - static_cast<std::ptrdiff_t>(open.size()));
    pugi::xml_node wrapper = d.document_element();
    xml_scope ws;
    r.enter(&root_scope, wrapper, ws, nullptr);
    ws.depth = root_scope.depth;  // the wrapper stands in for the root
    for (pugi::xml_node c = wrapper.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      xml_scope cs;
      r.enter(&ws, c, cs, nullptr);
      xml_element e = r.resolve(cs, c);
      if (e.name != tag) continue;
      item& it = items.emplace_back();
      if (atom) read_atom_entry(r, cs, c, it, v03);
      else read_rss_item(r, cs, c, it);
      break;
    }
    r.set_node_shift(0);
    pos = next;
  }
  return items;
}

}  // namespace

parse_result parse_xml(std::string_view bytes, const parse_options& options) {
  parse_result result;
  diagnostics_sink diags(result.diagnostics, options.max_diagnostics_per_code);
  if (!detail::within_size_limit(bytes, options, diags)) return result;
  decoded_text decoded = decode_xml_bytes(bytes, options.transport_charset);
  for (auto& p : decoded.problems) diags.add(severity::warning, diag_code::encoding, std::move(p));
  std::string_view doc = decoded.unchanged ? bytes : std::string_view(decoded.utf8);
  if (decoded.unchanged && doc.starts_with("\xEF\xBB\xBF")) doc.remove_prefix(3);

  // Junk or whitespace before the first '<' (some servers emit a blank line or a PHP notice).
  std::size_t origin = bytes.size() - doc.size();
  std::size_t lt = doc.find('<');
  if (lt == std::string_view::npos) {
    diags.add(severity::fatal, diag_code::format, "no XML element found: not a feed");
    return result;
  }
  if (!trim(doc.substr(0, lt)).empty())
    diags.add(severity::warning, diag_code::xml,
              std::to_string(lt) + " bytes of text before the first element skipped", origin, 1,
              1);
  doc.remove_prefix(lt);
  origin += lt;

  // pugixml parses in place in a per-thread scratch buffer: its capacity is reused across
  // documents (no fresh pages to fault in), and `doc` stays pristine for line:column reports.
  // pugixml takes the buffer's last byte as its terminator: a spare NUL keeps text or a name
  // left open at the end of input whole (else "<title>ab\xC3\xA9" loses half its last character).
  thread_local std::string scratch;
  scratch.assign(doc);
  scratch.push_back('\0');
  xml_reader r(options, diags, doc, origin);
  pugi::xml_document d;
  pugi::xml_parse_result pr =
      d.load_buffer_inplace(scratch.data(), scratch.size(), xml_flags, pugi::encoding_utf8);
  pugi::xml_node root = d.document_element();
  if (pr.status == pugi::status_no_document_element) {
    diags.add(severity::fatal, diag_code::format, "no root element: not a feed");
    return result;
  }
  if (!pr) {
    r.report_offset(static_cast<std::size_t>(pr.offset), root ? severity::error : severity::fatal,
                    diag_code::xml,
                    std::string("not well-formed XML: ") + pr.description() +
                        (root ? "; recovering what can be read" : ""));
  }
  if (!root) {
    if (pr) diags.add(severity::fatal, diag_code::format, "no root element: not a feed");
    return result;
  }

  std::string document_base = options.document_url;
  xml_scope rs;
  r.enter(nullptr, root, rs, &document_base);
  xml_element re = r.resolve(rs, root);
  root_kind kind = classify_root(re, r.attr(root, "version"));
  if ((kind == root_kind::rss || kind == root_kind::atom03) && !re.ns.empty() &&
      re.ns != ns::atom03 && re.ns != ns::rss10)
    r.core_alias = re.ns;
  // A DOCTYPE can only stand before the root element: look there, not through the feed.
  std::string_view prolog = doc.substr(0, static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, root.offset_debug())));
  if (prolog.find("<!DOCTYPE") != std::string_view::npos) r.dtd_entities = internal_entities(prolog);
  if (kind == root_kind::none) {
    std::string what = re.name == "html" ? "an HTML page" : "<" + std::string(root.name()) + ">";
    r.report(root, severity::fatal, diag_code::format,
             "the document is " + what + ", not an RSS, RDF or Atom feed");
    return result;
  }

  feed f;
  f.encoding = decoded.name.empty() ? decoded.charset : decoded.name;
  bool atom = kind == root_kind::atom10 || kind == root_kind::atom03;
  bool v03 = kind == root_kind::atom03;
  // Only the first <channel> is read: each one read would finish the feed again, over
  // everything the channels before it left (quadratic in their number), and overwrite it.
  bool extra_channel_reported = false;
  auto extra_channel = [&](pugi::xml_node at) {
    extra_channel_reported = true;
    r.report(at, severity::warning, diag_code::value,
             "more than one <channel>: only the first is read");
  };
  switch (kind) {
    case root_kind::rss: {
      f.format = rss_version(r.attr(root, "version"));
      bool saw_channel = false;
      r.for_each_child(rs, root, [&](const xml_element& e, const xml_scope& cs) {
        if (!is_rss_core(r, e.ns)) return;
        if (e.name == "channel") {
          if (!saw_channel) read_rss_channel(r, cs, e.node, f);
          else if (!extra_channel_reported) extra_channel(e.node);
          saw_channel = true;
        } else if (e.name == "item") {  // RSS 0.9x feeds with items beside the channel
          if (item* it = append_item(r, f, e.node)) read_rss_item(r, cs, e.node, *it);
        }
      });
      if (!saw_channel) r.report(root, severity::warning, diag_code::value, "<rss> has no <channel>");
      break;
    }
    case root_kind::channel:
      f.format = feed_format::rss20;
      read_rss_channel(r, rs, root, f);
      break;
    case root_kind::rdf: {
      f.format = rs.lookup("") == ns::rss090 ? feed_format::rss090 : feed_format::rss10;
      bool saw_channel = false;
      r.for_each_child(rs, root, [&](const xml_element& e, const xml_scope& cs) {
        if (!is_rss_core(r, e.ns)) return;
        if (e.ns == ns::rss090) f.format = feed_format::rss090;
        if (e.name == "channel") {
          if (!saw_channel) read_rss_channel(r, cs, e.node, f);
          else if (!extra_channel_reported) extra_channel(e.node);
          saw_channel = true;
        } else if (e.name == "image") read_rss_image(r, cs, e.node, f);
        else if (e.name == "item") {
          if (item* it = append_item(r, f, e.node)) read_rss_item(r, cs, e.node, *it);
        }
      });
      break;
    }
    case root_kind::atom10:
    case root_kind::atom03:
      f.format = v03 ? feed_format::atom03 : feed_format::atom10;
      read_atom_feed(r, rs, root, f, v03);
      break;
    case root_kind::none: break;
  }

  if (!pr) {
    std::vector<item> recovered =
        recover_items(r, doc, rs, atom ? "entry" : "item", atom, v03);
    if (recovered.size() > f.items.size()) {
      r.report_offset(0, severity::warning, diag_code::xml,
                      std::to_string(recovered.size()) + " items recovered one by one (" +
                          std::to_string(f.items.size()) + " before the error)");
      f.items = std::move(recovered);
    }
  }
  result.value = std::move(f);
  return result;
}

}  // namespace syndic::formats
