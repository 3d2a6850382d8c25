// /websub/{source}: the WebSub subscriber's callback.

#include "daemon/api_routes.hpp"

namespace syndic::daemon::routes {

void websub_callback(api_context&, server_request&&, responder answer, std::string_view) {
  answer.send(server_response::error(404, "no such subscription"));
}

}  // namespace syndic::daemon::routes
