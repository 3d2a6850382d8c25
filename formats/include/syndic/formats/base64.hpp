#pragma once
// Base64 (RFC 4648), standard and URL-safe alphabets read alike. Used for Atom's base64
// content and by the engine's signatures.

#include <optional>
#include <string>
#include <string_view>

namespace syndic::formats {

std::string base64_encode(std::string_view bytes);

// Strict: nullopt on any character outside the alphabet (padding ends the input).
std::optional<std::string> base64_decode(std::string_view text);

// Lenient, for content: whitespace and stray characters are skipped.
std::string base64_decode_lenient(std::string_view text);

}  // namespace syndic::formats
