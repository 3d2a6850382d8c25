#pragma once
// Checks shared by the XML and JSON entry points.

#include <syndic/formats/parse.hpp>

#include <string_view>

namespace syndic::formats::detail {

// False (and a fatal `limit` diagnostic) when the input is over options.max_bytes.
bool within_size_limit(std::string_view bytes, const parse_options& options,
                       diagnostics_sink& diags);

}  // namespace syndic::formats::detail
