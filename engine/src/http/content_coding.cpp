#include "http/content_coding.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace syndic::engine::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One inflate of `in` into `out` with zlib's window bits: 15 + 16 gzip, 15 zlib, -15 raw.
transport_error inflate_with(int window_bits, std::string_view in, std::string& out, std::size_t cap,
                             std::string& detail) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) {
    detail = "content decoding: zlib could not start";
    return transport_error::local;
  }
  out.clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());  // bodies are capped far below 4 GiB
  char chunk[16 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    std::size_t produced = sizeof chunk - z.avail_out;
    if (produced > cap - std::min(cap, out.size())) {
      inflateEnd(&z);
      out.clear();
      detail = body_over_cap(cap) + " once decoded";
      return transport_error::too_large;
    }
    out.append(chunk, produced);
    // gzip may be several members one after the other (RFC 1952 2.2): each is decoded.
    if (rc == Z_STREAM_END && window_bits > 15 && z.avail_in > 0 && inflateReset(&z) == Z_OK) rc = Z_OK;
  }
  bool whole = rc == Z_STREAM_END;
  if (!whole) {
    // Z_BUF_ERROR: no progress with output room left, so the input ended early.
    detail = std::string("content decoding: ") +
             (rc == Z_BUF_ERROR ? "truncated stream" : z.msg ? z.msg : "corrupt stream");
  }
  inflateEnd(&z);
  if (!whole) {
    out.clear();
    return transport_error::protocol;
  }
  return transport_error::none;
}

// Brotli (RFC 7932), streamed into `out` within the same cap.
transport_error unbrotli(std::string_view in, std::string& out, std::size_t cap, std::string& detail) {
  BrotliDecoderState* s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (!s) {
    detail = "content decoding: brotli could not start";
    return transport_error::local;
  }
  out.clear();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t avail_in = in.size();
  std::uint8_t chunk[16 * 1024];
  BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
  while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
    std::uint8_t* next_out = chunk;
    std::size_t avail_out = sizeof chunk;
    rc = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    std::size_t produced = sizeof chunk - avail_out;
    if (produced > cap - std::min(cap, out.size())) {
      BrotliDecoderDestroyInstance(s);
      out.clear();
      detail = body_over_cap(cap) + " once decoded";
      return transport_error::too_large;
    }
    out.append(reinterpret_cast<const char*>(chunk), produced);
  }
  bool whole = rc == BROTLI_DECODER_RESULT_SUCCESS && avail_in == 0;
  if (!whole)
    detail = std::string("content decoding: ") +
             (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT ? "truncated brotli stream"
              : rc == BROTLI_DECODER_RESULT_SUCCESS       ? "bytes after the brotli stream"
                                                          : "corrupt brotli stream");
  BrotliDecoderDestroyInstance(s);
  if (!whole) {
    out.clear();
    return transport_error::protocol;
  }
  return transport_error::none;
}

}  // namespace

transport_error decode_content(std::string_view encoding, std::string& body, std::size_t cap, std::string& detail) {
  // Codings are listed in the order applied: undo the last first.
  std::vector<std::string_view> codings;
  for (std::string_view rest = encoding; !rest.empty();) {
    auto comma = rest.find(',');
    if (std::string_view c = trim(rest.substr(0, comma)); !c.empty() && !iequals(c, "identity")) codings.push_back(c);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::string out;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    transport_error e;
    if (iequals(*it, "gzip") || iequals(*it, "x-gzip")) {
      e = inflate_with(15 + 16, body, out, cap, detail);
    } else if (iequals(*it, "deflate")) {
      // RFC 9110 8.4.1.2: zlib's format; some servers send raw deflate instead.
      e = inflate_with(15, body, out, cap, detail);
      if (e == transport_error::protocol) e = inflate_with(-15, body, out, cap, detail);
    } else if (iequals(*it, "br")) {
      e = unbrotli(body, out, cap, detail);
    } else {
      detail = "content decoding: coding '" + std::string(it->substr(0, 32)) + "' was not offered";
      return transport_error::protocol;
    }
    if (e != transport_error::none) {
      body.clear();
      return e;
    }
    body.swap(out);
  }
  return transport_error::none;
}

}  // namespace syndic::engine::http
