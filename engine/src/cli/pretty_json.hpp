#pragma once
// Indents compact JSON for people (`syndic convert --pretty`). Input must be valid JSON, as
// our renderers write it; strings are copied byte for byte.

#include <string>
#include <string_view>

namespace syndic::cli {

std::string pretty_json(std::string_view compact, int indent = 2);

}  // namespace syndic::cli
