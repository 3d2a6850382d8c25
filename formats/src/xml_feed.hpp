#pragma once
// Internal interface between the XML entry point and the per-syntax readers.

#include "xml_reader.hpp"

#include <syndic/formats/model.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace syndic::formats::detail {

// RSS 0.9x/2.0 <channel> (items inside it) and RSS 0.90/1.0 (items beside it under rdf:RDF).
void read_rss_channel(xml_reader& r, const xml_scope& s, pugi::xml_node channel, feed& f);
void read_rss_item(xml_reader& r, const xml_scope& s, pugi::xml_node node, item& it);
void read_rss_image(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f);

void read_atom_feed(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f, bool v03);
void read_atom_entry(xml_reader& r, const xml_scope& s, pugi::xml_node node, item& it, bool v03);

// Modules shared by every XML syntax (Dublin Core, content, Media RSS, iTunes, sy, atom:link
// in RSS). Return true when the element was consumed.
bool read_item_module(xml_reader& r, const xml_element& e, const xml_scope& s, item& it);
bool read_feed_module(xml_reader& r, const xml_element& e, const xml_scope& s, feed& f);
// Fill-ins applied after all children were read (itunes:author when no author, ...).
void finish_item(item& it);
void finish_feed(feed& f);

// An unmapped element kept for pass-through.
extension read_extension(xml_reader& r, const xml_element& e, const xml_scope& s);

// Reserves room for the <item>/<entry> children of `parent` (bounded by the item limit), so
// that reading 500 items does not move the vector of items nine times; and for extensions
// when there are many other children.
void reserve_items(xml_reader& r, feed& f, pugi::xml_node parent, std::string_view local_name);

// Adds an item unless the item limit is reached (reported once). Returns nullptr when full.
item* append_item(xml_reader& r, feed& f, pugi::xml_node at);

std::optional<timestamp> read_date(xml_reader& r, const xml_element& e, const xml_scope& s);
std::optional<std::uint64_t> read_uint(xml_reader& r, pugi::xml_node at, std::string_view what,
                                       std::string_view value);
// "jdoe@example.com (John Doe)", "John Doe <jdoe@example.com>", "John Doe" ...
person parse_person_text(std::string_view s);
bool is_rss_core(const xml_reader& r, std::string_view ns);

}  // namespace syndic::formats::detail
