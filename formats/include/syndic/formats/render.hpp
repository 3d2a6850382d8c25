#pragma once
// Rendering: one model, three syntaxes. Output is UTF-8, valid per each spec: required
// elements are always present (synthesised deterministically when the model lacks them, so
// ids are stable across renders), and every value is escaped.

#include <syndic/formats/model.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace syndic::formats {

enum class output_format : std::uint8_t { rss, atom, json };

std::optional<output_format> output_format_from_string(std::string_view name);
std::string_view to_string(output_format f);
// The Content-Type an HTTP server or client should send with this output.
std::string_view content_type(output_format f);

// Appends to `out` (callers reuse buffers across renders).
void render_rss(const feed& f, std::string& out);
void render_atom(const feed& f, std::string& out);
// JSON Feed 1.1 plus the `_syndic` extension objects (docs/json-output.md).
void render_json(const feed& f, std::string& out);

std::string render(const feed& f, output_format format);

// Deterministic ids for what the model leaves without one (Atom requires ids).
std::string synthesized_item_id(const item& it);
std::string synthesized_feed_id(const feed& f);

}  // namespace syndic::formats
