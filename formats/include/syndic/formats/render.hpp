#pragma once
// Rendering: one model, three syntaxes. Output is UTF-8, well-formed and valid per each spec
// whatever the model holds: required elements are always present (synthesised
// deterministically when the model lacks them, so ids are stable across renders), every
// value is escaped, and what cannot be written validly (an extension whose name is no XML
// name) is left out and, when the caller passes `notes`, reported there.

#include <syndic/formats/diagnostic.hpp>
#include <syndic/formats/model.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats {

enum class output_format : std::uint8_t { rss, atom, json };

std::optional<output_format> output_format_from_string(std::string_view name);
std::string_view to_string(output_format f);
// The Content-Type an HTTP server or client should send with this output.
std::string_view content_type(output_format f);

// Appends to `out` (callers reuse buffers across renders). `notes`, when not null, receives a
// warning (code `value`) for each thing left out or rewritten.
void render_rss(const feed& f, std::string& out, std::vector<diagnostic>* notes = nullptr);
void render_atom(const feed& f, std::string& out, std::vector<diagnostic>* notes = nullptr);
// JSON Feed 1.1 plus the `_syndic` extension objects (docs/json-output.md).
void render_json(const feed& f, std::string& out, std::vector<diagnostic>* notes = nullptr);

std::string render(const feed& f, output_format format, std::vector<diagnostic>* notes = nullptr);

// Deterministic ids for what the model leaves without one.
std::string synthesized_item_id(const item& it);
std::string synthesized_feed_id(const feed& f);
// Atom ids must be absolute IRIs (RFC 4287 4.2.6). These are the ids above when they are;
// otherwise (an RSS guid such as "pod-12") a urn:uuid derived from the feed and the id, the
// same on every render.
std::string atom_feed_id(const feed& f);
std::string atom_item_id(const feed& f, const item& it);
// The feed-level author Atom requires when some entry has none (RFC 4287 4.1.1) and the
// model has no feed author: named after the feed's title.
person synthesized_feed_author(const feed& f);

}  // namespace syndic::formats
