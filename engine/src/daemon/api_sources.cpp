// /v1/sources: the admin API of polled sources.

#include "daemon/api_routes.hpp"

namespace syndic::daemon::routes {

server_response sources(api_context&, const server_request&, std::string_view) {
  return server_response::error(501, "sources are not served yet");
}

}  // namespace syndic::daemon::routes
