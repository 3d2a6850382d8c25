#pragma once
// Content-Encoding for fetched bodies on the h1 path (libcurl decodes its own): gzip (and
// x-gzip) and deflate through zlib, br through libbrotli. The cap holds for the decoded bytes, so a small
// compressed body that inflates to gigabytes (a "zip bomb") fails as too_large after at most
// `cap` bytes of output. Pure function, no I/O.

#include "http/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace syndic::engine::http {

// What the h1 transport offers in Accept-Encoding when request::decode_content is set.
inline constexpr std::string_view accepted_codings = "gzip, deflate, br";

// Replaces `body` with its decoding under `encoding` (a Content-Encoding value: one coding or
// a list, applied in order, so undone last first; "identity" is none). none on success; else
// too_large (decoded over `cap` bytes) or protocol (a corrupt stream, a coding not offered)
// with `detail` saying which.
transport_error decode_content(std::string_view encoding, std::string& body, std::size_t cap, std::string& detail);

}  // namespace syndic::engine::http
