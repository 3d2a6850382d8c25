// /websub/{source}: the WebSub subscriber's callback (websub_subscriber.hpp): a hub's
// verification of intent (GET) and its content distribution (POST).

#include "daemon/api_routes.hpp"
#include "daemon/websub_subscriber.hpp"

namespace syndic::daemon::routes {

void websub_callback(api_context& ctx, server_request&& req, responder answer, std::string_view rest) {
  // `rest` is the source id as it appears in the path: ids are [A-Za-z0-9._-], so nothing is
  // percent-decoded, and anything else (a '/', an escape) names no subscription.
  if (!ctx.subscriber) {
    answer.send(server_response::error(404, "no such subscription"));
    return;
  }
  ctx.subscriber->handle(rest, std::move(req), std::move(answer));
}

}  // namespace syndic::daemon::routes
