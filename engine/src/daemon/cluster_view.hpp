#pragma once
// The daemon's side of a cluster: this instance's default name, and the coordinator's view as
// the JSON of GET /v1/cluster.

#include "cluster/coordinator.hpp"
#include "daemon/settings.hpp"

#include <string>

namespace syndic::daemon {

// HOSTNAME-XXXXXX (6 random hex digits): unique among instances without configuration, new
// at every start (a restarted instance is a new member; its old leases expire).
std::string default_instance_id();

// {"instance":"a","partitions":256,"quota":86,"member":true,"owned":[0,3,...],
//  "members":["a","b","c"],"rounds":12,"gained":86,"handed_back":0,"lost":0,"expired":0,
//  "store_errors":0}
std::string cluster_view_json(const cluster::coordinator_view& v);

// Where the other instances reach this one: http://HOST:PORT with the address bound; an
// unspecified address (0.0.0.0, ::) is written as this machine's host name. Published under
// cluster.members/<instance> (the public URL is the same for every instance: not this).
std::string instance_url(const listen_address& listen, std::uint16_t bound_port);

// The URL of the instance holding `outlet`'s partition, read from the store; "" when no live
// instance holds it or its URL is unknown. For answering an admin call that only the owner
// can carry out (replay, retrying dead letters) with where to send it.
std::string owner_url(engine::store& db, const std::string& outlet, std::uint32_t partitions);

}  // namespace syndic::daemon
