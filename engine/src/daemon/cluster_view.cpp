#include "daemon/cluster_view.hpp"

#include "cli/json_string.hpp"

#include <unistd.h>

#include <cstdio>
#include <random>

namespace syndic::daemon {

std::string default_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "syndic");
  std::string name;
  for (const char* p = host; *p && name.size() < 64; ++p)  // settings' rule: printable, no space or '/'
    name += (*p > ' ' && *p < 0x7f && *p != '/') ? *p : '_';
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(rd() & 0xffffff));
  return name + "-" + suffix;
}

std::string cluster_view_json(const cluster::coordinator_view& v) {
  std::string out = "{\"instance\":";
  out += cli::json_string(v.instance);
  out += ",\"partitions\":" + std::to_string(v.partitions) + ",\"quota\":" + std::to_string(v.quota) +
         ",\"member\":" + (v.member ? "true" : "false") + ",\"owned\":[";
  for (std::size_t i = 0; i < v.owned.size(); ++i) out += (i ? "," : "") + std::to_string(v.owned[i]);
  out += "],\"members\":[";
  for (std::size_t i = 0; i < v.members.size(); ++i) {
    if (i) out += ',';
    out += cli::json_string(v.members[i]);
  }
  out += "],\"rounds\":" + std::to_string(v.rounds) + ",\"gained\":" + std::to_string(v.gained) +
         ",\"handed_back\":" + std::to_string(v.handed_back) + ",\"lost\":" + std::to_string(v.lost) +
         ",\"expired\":" + std::to_string(v.expired) + ",\"store_errors\":" + std::to_string(v.store_errors) + "}";
  return out;
}

std::string instance_url(const listen_address& listen, std::uint16_t bound_port) {
  std::string host = listen.host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    char name[256] = {};
    host = gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "127.0.0.1";
  } else if (listen.ipv6) {
    host = "[" + host + "]";
  }
  return "http://" + host + ":" + std::to_string(bound_port);
}

std::string owner_url(engine::store& db, const std::string& outlet, std::uint32_t partitions) {
  auto lease = db.get_lease(cluster::partition_lease_name(cluster::partition_of(outlet, partitions)));
  if (!lease.ok() || !lease.value || lease.value->owner.empty() || lease.value->expires <= engine::store_clock::now())
    return {};
  auto member = db.kv_get(cluster::members_kv_namespace, lease.value->owner);
  if (!member.ok() || !member.value) return {};
  // {"url":"http://...","started":...}: written by the coordinator with json_string, so the URL
  // is a plain quoted string (URLs hold no quote or backslash once escaped that way).
  const std::string& v = *member.value;
  auto at = v.find("\"url\":\"");
  if (at == std::string::npos) return {};
  at += 7;
  auto end = v.find('"', at);
  if (end == std::string::npos) return {};
  std::string url = v.substr(at, end - at);
  if (url.find('\\') != std::string::npos || !(url.starts_with("http://") || url.starts_with("https://"))) return {};
  return url;
}

}  // namespace syndic::daemon
