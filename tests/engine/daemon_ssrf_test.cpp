// SSRF: a table of hosts and addresses that API-supplied URLs may or may not reach, including
// the odd IPv4 forms resolvers accept and IPv4 addresses inside IPv6 ones.

#include "daemon/ssrf.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace syndic::daemon {
namespace {

struct row {
  const char* host;
  bool refused;
  const char* reason;  // a part of the reason, when refused
};

TEST(DaemonSsrf, Hosts) {
  const row rows[] = {
      // Plain IPv4.
      {"8.8.8.8", false, ""},
      {"93.184.216.34", false, ""},
      {"127.0.0.1", true, "loopback address 127.0.0.1"},
      {"127.255.255.254", true, "loopback"},
      {"0.0.0.0", true, "unspecified"},
      {"0.1.2.3", true, "unspecified"},
      {"10.1.2.3", true, "private address 10.1.2.3"},
      {"172.16.0.1", true, "private"},
      {"172.31.255.255", true, "private"},
      {"172.32.0.1", false, ""},
      {"172.15.255.255", false, ""},
      {"192.168.1.1", true, "private"},
      {"100.64.0.1", true, "carrier-grade NAT"},
      {"100.127.255.255", true, "carrier-grade NAT"},
      {"100.128.0.1", false, ""},
      {"169.254.169.254", true, "cloud metadata (link-local) address 169.254.169.254"},
      {"169.254.1.1", true, "link-local"},
      {"224.0.0.1", true, "multicast"},
      {"239.255.255.250", true, "multicast"},
      {"255.255.255.255", true, "broadcast"},
      {"240.0.0.1", true, "reserved"},
      {"192.0.2.1", true, "documentation"},
      {"198.18.0.1", true, "benchmarking"},
      {"192.0.0.8", true, "reserved"},
      // Forms inet_aton (and so getaddrinfo) reads as IPv4.
      {"2130706433", true, "loopback address 127.0.0.1 (written '2130706433')"},
      {"0x7f000001", true, "loopback address 127.0.0.1"},
      {"0x7f.1", true, "loopback address 127.0.0.1 (written '0x7f.1')"},
      {"0177.0.0.1", true, "loopback address 127.0.0.1"},
      {"127.1", true, "loopback address 127.0.0.1"},
      {"127.0.1", true, "loopback address 127.0.0.1"},
      {"0", true, "address 0.0.0.0 (written '0')"},
      {"0x0A.0.0.1", true, "private address 10.0.0.1"},
      {"012.1.1.1", true, "private address 10.1.1.1"},
      {"3232235777", true, "private address 192.168.1.1"},
      {"0xa9.0xfe.0xa9.0xfe", true, "cloud metadata"},
      {"134744072", false, ""},  // 8.8.8.8
      {"127.0.0.1.", true, "loopback"},
      // Names ending in a number that are no address: refused rather than left to a resolver.
      {"08.0.0.1", true, "ends in a number"},
      {"1.2.3.4.5", true, "ends in a number"},
      {"256.1.1.1", true, "ends in a number"},
      {"4294967296", true, "ends in a number"},
      {"example.0x10", true, "ends in a number"},
      // IPv6.
      {"::1", true, "loopback address ::1"},
      {"[::1]", true, "loopback address ::1"},
      {"::", true, "unspecified"},
      {"2606:4700::1111", false, ""},
      {"[2001:4860:4860::8888]", false, ""},
      {"fc00::1", true, "private (unique local)"},
      {"fd12:3456::1", true, "private (unique local)"},
      {"fe80::1", true, "link-local"},
      {"fe80::1%25eth0", true, "zone"},
      {"fec0::1", true, "site-local"},
      {"ff02::1", true, "multicast"},
      {"2001:db8::1", true, "documentation"},
      {"100::1", true, "not global unicast"},
      // IPv4 inside IPv6.
      {"::ffff:127.0.0.1", true, "IPv4-mapped address ::ffff:127.0.0.1 (of loopback 127.0.0.1)"},
      {"[::ffff:7f00:1]", true, "of loopback 127.0.0.1"},
      {"::ffff:169.254.169.254", true, "cloud metadata"},
      {"::ffff:8.8.8.8", false, ""},
      {"::127.0.0.1", true, "IPv4-compatible"},
      {"::8.8.8.8", true, "IPv4-compatible"},
      {"::ffff:0:127.0.0.1", true, "not global unicast"},
      {"64:ff9b::10.0.0.1", true, "NAT64 address 64:ff9b::a00:1 (of private 10.0.0.1)"},
      {"64:ff9b::7f00:1", true, "of loopback"},
      {"64:ff9b::8.8.8.8", false, ""},
      {"64:ff9b:1::1", true, "local-use NAT64"},
      {"2002:7f00:1::1", true, "6to4 address 2002:7f00:1::1 (of loopback 127.0.0.1)"},
      {"2002:c0a8:101::1", true, "of private 192.168.1.1"},
      {"2002:808:808::1", false, ""},
      {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false, ""},  // Teredo: server 65.54.227.120, client 8.8.8.8
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", true, "of documentation 192.0.2.45"},  // RFC 4380's example
      {"2001:0:4136:e378:8000:63bf:80ff:fffe", true, "Teredo"},  // client 127.0.0.1
      {"2001:2::1", true, "IETF protocol assignments"},
      {"not:an:address", true, "not a valid IPv6 address"},
      // Names.
      {"example.com", false, ""},
      {"EXAMPLE.com.", false, ""},
      {"localhost", true, "host name 'localhost'"},
      {"LocalHost.", true, "host name 'localhost'"},
      {"api.localhost", true, "under localhost"},
      {"localhost.localdomain", true, "under localdomain"},
      {"metadata", true, "metadata"},
      {"metadata.google.internal", true, "metadata"},
      {"db.corp.internal", true, "under internal"},
      {"printer.local", true, "under local"},
      {"nas.home.arpa", true, "under home.arpa"},
      {"localhost.example.com", false, ""},
      {"", true, "empty host"},
  };
  for (const row& r : rows) {
    target_check c = check_host(r.host);
    EXPECT_EQ(c.refused, r.refused) << "host '" << r.host << "': " << c.reason;
    EXPECT_EQ(bool(c), !r.refused) << r.host;
    if (r.refused) {
      EXPECT_NE(c.reason.find(r.reason), std::string::npos) << "host '" << r.host << "': " << c.reason;
    } else {
      EXPECT_TRUE(c.reason.empty()) << r.host;
    }
  }
}

// The parser agrees with glibc's inet_aton on the forms both accept, and on what neither does.
TEST(DaemonSsrf, Ipv4LiteralsAgreeWithInetAton) {
  const char* forms[] = {"127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1", "127.0.1", "0x7F.0.0.01",
                         "1.2.3.4", "0", "0x", "255.255.255.255", "4294967295", "0xffffffff", "1.16777215",
                         "1.2.65535", "256.1.1.1", "1.2.3.256", "1.16777216", "4294967296", "08", "1..2",
                         ".1", "1.", "1.2.3.4.5", "0x1g", "abc", "-1", "1.2.3.-4"};
  for (const char* f : forms) {
    std::array<std::uint8_t, 4> ours{};
    in_addr theirs{};
    bool ok = parse_ipv4_literal(f, ours);
    bool their_ok = ::inet_aton(f, &theirs) != 0;
    EXPECT_EQ(ok, their_ok) << f;
    if (ok && their_ok) {
      EXPECT_EQ(std::memcmp(ours.data(), &theirs, 4), 0) << f;
    }
  }
}

TEST(DaemonSsrf, Urls) {
  EXPECT_FALSE(check_url("https://hooks.example.com/cb").refused);
  EXPECT_NE(check_url("http://127.0.0.1:8080/cb").reason.find("loopback"), std::string::npos);
  EXPECT_NE(check_url("http://[::ffff:127.0.0.1]/cb").reason.find("loopback"), std::string::npos);
  EXPECT_NE(check_url("http://2130706433/").reason.find("loopback"), std::string::npos);
  EXPECT_NE(check_url("http://0x7f.1/").reason.find("loopback"), std::string::npos);
  EXPECT_NE(check_url("http://169.254.169.254/latest/meta-data/").reason.find("metadata"), std::string::npos);
  EXPECT_NE(check_url("http://user:pw@localhost/").reason.find("localhost"), std::string::npos);
  // Percent-encoding in the host is decoded by the URL parser before the check.
  EXPECT_NE(check_url("http://127.0.0.%31/").reason.find("loopback"), std::string::npos);
  EXPECT_NE(check_url("http://loc%61lhost/").reason.find("localhost"), std::string::npos);
  EXPECT_TRUE(check_url("gopher://example.com/").refused);
  EXPECT_TRUE(check_url("not a url").refused);
}

// After resolution: the addresses getaddrinfo hands back, as sockaddrs.
TEST(DaemonSsrf, ResolvedAddresses) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  struct want {
    const char* text;
    bool refused;
  };
  for (want w : {want{"127.0.0.1", true}, want{"8.8.4.4", false}, want{"::1", true}, want{"2606:4700::1111", false},
                 want{"::ffff:10.0.0.1", true}, want{"169.254.169.254", true}}) {
    addrinfo* res = nullptr;
    ASSERT_EQ(::getaddrinfo(w.text, nullptr, &hints, &res), 0) << w.text;
    EXPECT_EQ(check_address(*res->ai_addr).refused, w.refused) << w.text;
    ::freeaddrinfo(res);
  }
  // A name resolved by the system (from /etc/hosts, no network): every address it gives for
  // localhost is refused, as a DNS name pointing inside would be.
  addrinfo by_name{};
  by_name.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo("localhost", "80", &by_name, &res) == 0) {
    int n = 0;
    for (addrinfo* a = res; a; a = a->ai_next, ++n) EXPECT_TRUE(check_address(*a->ai_addr).refused);
    EXPECT_GT(n, 0);
    ::freeaddrinfo(res);
  }
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_TRUE(check_address(other).refused);
}

}  // namespace
}  // namespace syndic::daemon
