#pragma once
// The API's routes, one file each (api_publish.cpp, api_feeds.cpp, api_admin.cpp); api.cpp
// dispatches to them. Private to the daemon.

#include "daemon/api.hpp"

#include <string>
#include <string_view>

namespace syndic::daemon::routes {

using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;

void publish(api_context& ctx, server_request&& req, responder answer);
server_response feed(api_context& ctx, const server_request& req, std::string_view name);
server_response admin(api_context& ctx, const server_request& req, std::string_view rest);
// /v1/sources...: `rest` is what follows "/v1/sources" ("" or "/{id}[/poll]").
server_response sources(api_context& ctx, const server_request& req, std::string_view rest);
// /websub/{rest}: a hub's intent verification (GET) or content delivery (POST).
void websub_callback(api_context& ctx, server_request&& req, responder answer, std::string_view rest);

// A query parameter's value (percent-decoded); nullopt-like "" with found=false when absent.
std::string query_param(std::string_view query, std::string_view name, bool* found = nullptr);
// A JSON string literal.
std::string json(std::string_view s);

}  // namespace syndic::daemon::routes
