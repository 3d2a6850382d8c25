#pragma once
// Outlets added through the API: a JSON object with the outlets file's keys
// ({"id":"a","url":"https://...","format":"webhook","rate":5,"languages":["en"]}), checked by
// the very rules the outlets file uses (the object becomes one [[outlet]] table).

#include <syndic/engine/outlet.hpp>

#include <string>
#include <string_view>

namespace syndic::daemon {

struct outlet_json_result {
  engine::outlet_config outlet;
  std::string error;  // empty when the outlet can be used
};

// `id_from_path`, when not empty, is the outlet's id (PUT /v1/outlets/{id}); the body may
// then leave "id" out, and must not name another.
outlet_json_result outlet_from_json(std::string_view body, const std::string& id_from_path);

// Why an outlet added through the API may not use this endpoint (loopback, private,
// link-local, metadata addresses), or "" when it may. Names only: the address a name
// resolves to is checked when connecting.
std::string private_target_refusal(const engine::parsed_url& endpoint);

}  // namespace syndic::daemon
