// SSRF checks: global unicast only, with every IPv4-in-IPv6 form unwrapped (see ssrf.hpp).

#include "daemon/ssrf.hpp"

#include <syndic/engine/outlet.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace syndic::daemon {
namespace {

using v4_bytes = std::array<std::uint8_t, 4>;
using v6_bytes = std::array<std::uint8_t, 16>;

std::string text_of(const v4_bytes& a) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

std::string text_of(const v6_bytes& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

bool in(const v4_bytes& a, std::uint32_t net, int prefix) {
  std::uint32_t x = std::uint32_t(a[0]) << 24 | std::uint32_t(a[1]) << 16 | std::uint32_t(a[2]) << 8 | a[3];
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t(0) << (32 - prefix);
  return (x & mask) == (net & mask);
}

constexpr std::uint32_t ip(int a, int b, int c, int d) {
  return std::uint32_t(a) << 24 | std::uint32_t(b) << 16 | std::uint32_t(c) << 8 | std::uint32_t(d);
}

// What kind of non-global address this is, or nullptr for a global unicast one. Ranges from
// the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates).
const char* v4_kind(const v4_bytes& a) {
  if (in(a, ip(255, 255, 255, 255), 32)) return "broadcast";
  if (in(a, ip(169, 254, 169, 254), 32)) return "cloud metadata (link-local)";
  struct range {
    std::uint32_t net;
    int prefix;
    const char* kind;
  };
  static constexpr range ranges[] = {
      {ip(0, 0, 0, 0), 8, "unspecified ('this network')"},
      {ip(10, 0, 0, 0), 8, "private"},
      {ip(100, 64, 0, 0), 10, "shared (carrier-grade NAT)"},
      {ip(127, 0, 0, 0), 8, "loopback"},
      {ip(169, 254, 0, 0), 16, "link-local"},
      {ip(172, 16, 0, 0), 12, "private"},
      {ip(192, 0, 0, 0), 24, "reserved (IETF protocol assignments)"},
      {ip(192, 0, 2, 0), 24, "documentation"},
      {ip(192, 88, 99, 0), 24, "reserved (6to4 relay)"},
      {ip(192, 168, 0, 0), 16, "private"},
      {ip(198, 18, 0, 0), 15, "benchmarking"},
      {ip(198, 51, 100, 0), 24, "documentation"},
      {ip(203, 0, 113, 0), 24, "documentation"},
      {ip(224, 0, 0, 0), 4, "multicast"},
      {ip(240, 0, 0, 0), 4, "reserved"},
  };
  for (const range& r : ranges)
    if (in(a, r.net, r.prefix)) return r.kind;
  return nullptr;
}

v4_bytes v4_at(const v6_bytes& a, std::size_t offset, bool inverted = false) {
  v4_bytes v{};
  for (std::size_t i = 0; i < 4; ++i) v[i] = static_cast<std::uint8_t>(inverted ? ~a[offset + i] : a[offset + i]);
  return v;
}

bool zero(const v6_bytes& a, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (a[i]) return false;
  return true;
}

target_check refuse(std::string reason) { return {true, std::move(reason)}; }

// An IPv6 form that carries an IPv4 address: refused when that address would be.
target_check embedded(const v6_bytes& a, const char* form, const v4_bytes& v4) {
  if (const char* kind = v4_kind(v4))
    return refuse(std::string(form) + " address " + text_of(a) + " (of " + kind + " " + text_of(v4) + ")");
  return {};
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// One part of an inet_aton literal: decimal, 0x-hex or 0-octal.
bool aton_part(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 32) return false;
  unsigned base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
    if (s.empty()) return false;  // "0x" alone is no number to glibc's inet_aton either
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = unsigned(c - '0');
    else if (base == 16 && is_hex(c)) d = unsigned((c | 0x20) - 'a' + 10);
    else return false;
    if (d >= base) return false;
    v = v * base + d;
    if (v > 0xffffffffull) return false;
  }
  out = v;
  return true;
}

// A label that a URL parser (WHATWG) would read as a number.
bool numeric_label(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    for (char c : label.substr(2))
      if (!is_hex(c)) return false;
    return true;
  }
  for (char c : label)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return out;
}

}  // namespace

bool parse_ipv4_literal(std::string_view text, std::array<std::uint8_t, 4>& out) {
  std::uint64_t parts[4];
  std::size_t n = 0;
  while (true) {
    auto dot = text.find('.');
    if (n == 4 || !aton_part(text.substr(0, dot), parts[n])) return false;
    ++n;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  // Every part but the last is one byte; the last fills the bytes that remain.
  std::uint64_t value = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (parts[i] > 255) return false;
    value |= parts[i] << (8 * (3 - i));
  }
  std::uint64_t last_max = n == 1 ? 0xffffffffull : (1ull << (8 * (5 - n))) - 1;
  if (parts[n - 1] > last_max) return false;
  value |= parts[n - 1];
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * (3 - i)));
  return true;
}

target_check check_address(const std::array<std::uint8_t, 4>& a) {
  if (const char* kind = v4_kind(a)) return refuse(std::string(kind) + " address " + text_of(a));
  return {};
}

target_check check_address(const std::array<std::uint8_t, 16>& a) {
  if (zero(a, 0, 16)) return refuse("unspecified address ::");
  if (zero(a, 0, 15) && a[15] == 1) return refuse("loopback address ::1");
  if (zero(a, 0, 10) && a[10] == 0xff && a[11] == 0xff) {
    target_check c = embedded(a, "IPv4-mapped", v4_at(a, 12));
    if (c.refused) return c;
    return {};  // the kernel connects to the IPv4 address itself, which is global
  }
  if (zero(a, 0, 12)) return refuse("IPv4-compatible address " + text_of(a) + " (deprecated, reserved)");
  // NAT64, RFC 6052's well-known prefix: the translator connects to the embedded address.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
    if (zero(a, 4, 12)) return embedded(a, "NAT64", v4_at(a, 12));
    if (a[4] == 0x00 && a[5] == 0x01) return refuse("local-use NAT64 address " + text_of(a));
  }
  if ((a[0] & 0xfe) == 0xfc) return refuse("private (unique local) address " + text_of(a));
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return refuse("link-local address " + text_of(a));
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return refuse("site-local address " + text_of(a) + " (deprecated)");
  if (a[0] == 0xff) return refuse("multicast address " + text_of(a));
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return refuse("documentation address " + text_of(a));
  if (a[0] == 0x20 && a[1] == 0x02) return embedded(a, "6to4", v4_at(a, 2));
  // Teredo: the server's address, then the client's (inverted) in the last four bytes.
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) {
    if (target_check c = embedded(a, "Teredo", v4_at(a, 4)); c.refused) return c;
    return embedded(a, "Teredo", v4_at(a, 12, true));
  }
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) return refuse("reserved (IETF protocol assignments) address " + text_of(a));
  // Global unicast is 2000::/3; everything else (100::/64 discard, ::/8 ...) is not reachable.
  if ((a[0] & 0xe0) != 0x20) return refuse("reserved address " + text_of(a) + " (not global unicast)");
  return {};
}

target_check check_address(const sockaddr& address) {
  if (address.sa_family == AF_INET) {
    sockaddr_in in4;
    std::memcpy(&in4, &address, sizeof in4);
    v4_bytes a;
    std::memcpy(a.data(), &in4.sin_addr, 4);
    return check_address(a);
  }
  if (address.sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &address, sizeof in6);
    v6_bytes a;
    std::memcpy(a.data(), &in6.sin6_addr, 16);
    return check_address(a);
  }
  return refuse("an address of family " + std::to_string(address.sa_family) + " (only IPv4 and IPv6)");
}

target_check check_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find(':') != std::string_view::npos) {
    if (host.find('%') != std::string_view::npos)
      return refuse("IPv6 address with a zone " + std::string(host) + " (link-local scope)");
    v6_bytes a{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), a.data()) != 1)
      return refuse("host '" + std::string(host) + "' is not a valid IPv6 address");
    return check_address(a);
  }
  std::string name = lowered(host);
  if (name.ends_with('.')) name.pop_back();  // "localhost." is localhost
  if (name.empty()) return refuse("empty host");
  v4_bytes v4{};
  if (parse_ipv4_literal(name, v4)) {
    target_check c = check_address(v4);
    if (c.refused && name != text_of(v4)) c.reason += " (written '" + std::string(host) + "')";
    return c;
  }
  auto last_dot = name.rfind('.');
  std::string_view last = last_dot == std::string::npos ? std::string_view(name) : std::string_view(name).substr(last_dot + 1);
  if (numeric_label(last))
    return refuse("host '" + std::string(host) + "' ends in a number but is not an IPv4 address");
  // Names that mean this machine, its cloud's metadata service, or a private network whatever
  // DNS says (RFC 6761 localhost, RFC 6762 .local, RFC 8375 home.arpa, ICANN's private .internal).
  static constexpr std::string_view exact[] = {"localhost",     "metadata",     "metadata.google.internal",
                                               "metadata.goog", "instance-data"};
  static constexpr std::string_view suffixes[] = {".localhost", ".localdomain", ".internal", ".local", ".home.arpa"};
  for (std::string_view e : exact)
    if (name == e) return refuse("host name '" + name + "' (this machine or a metadata service)");
  for (std::string_view s : suffixes)
    if (name.ends_with(s) || name == s.substr(1))
      return refuse("host name '" + name + "' (under " + std::string(s.substr(1)) + ", a local or private name)");
  return {};
}

target_check check_url(std::string_view url) {
  std::string error;
  auto parsed = engine::parse_outlet_url(url, error);
  if (!parsed) return refuse(error);
  return check_host(parsed->host);
}

}  // namespace syndic::daemon
