#pragma once
// The daemon's side of a cluster: this instance's default name, and the coordinator's view as
// the JSON of GET /v1/cluster.

#include "cluster/coordinator.hpp"

#include <string>

namespace syndic::daemon {

// HOSTNAME-XXXXXX (6 random hex digits): unique among instances without configuration, new
// at every start (a restarted instance is a new member; its old leases expire).
std::string default_instance_id();

// {"instance":"a","partitions":256,"quota":86,"member":true,"owned":[0,3,...],
//  "members":["a","b","c"],"rounds":12,"gained":86,"handed_back":0,"lost":0,"expired":0,
//  "store_errors":0}
std::string cluster_view_json(const cluster::coordinator_view& v);

}  // namespace syndic::daemon
