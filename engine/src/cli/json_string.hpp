#pragma once
// A JSON string literal for the commands' machine-readable output (push --json, convert
// --jsonl): quotes, backslashes and control characters escaped, everything else as is.

#include <string>
#include <string_view>

namespace syndic::cli {

std::string json_string(std::string_view s);

}  // namespace syndic::cli
