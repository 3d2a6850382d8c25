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

}  // namespace syndic::daemon
