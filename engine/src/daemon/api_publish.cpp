// POST /v1/publish: items in, appended to the log in one transaction, answered 202 once durable.

#include "daemon/api_routes.hpp"
#include "daemon/item_codec.hpp"

#include <syndic/formats/parse.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace syndic::daemon::routes {
namespace {

constexpr std::size_t max_items_per_publish = 10'000;
constexpr std::size_t max_idempotency_key = 200;

std::string lower_media_type(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.remove_suffix(1);
  while (!base.empty() && (base.front() == ' ' || base.front() == '\t')) base.remove_prefix(1);
  std::string out(base);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A JSON body is one JSON Feed item or a whole document ("version" or "items" at the top).
// A lone item is wrapped in a document; the body was checked to be one JSON object first,
// so the wrapping cannot be broken out of.
formats::parse_result parse_json_body(const std::string& body, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(body).get(root); e) {
    error = std::string("body is not valid JSON: ") + simdjson::error_message(e);
    return {};
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    error = "body must be a JSON object: a JSON Feed item or document";
    return {};
  }
  bool document = false;
  for (auto field : obj)
    if (field.key == "version" || field.key == "items") document = true;
  if (document) return formats::parse_json(body);
  std::string wrapped = R"({"version":"https://jsonfeed.org/version/1.1","title":"","items":[)";
  wrapped += body;
  wrapped += "]}";
  return formats::parse_json(wrapped);
}

}  // namespace

void publish(api_context& ctx, server_request&& req, responder answer) {
  auto started = std::chrono::steady_clock::now();
  ctx.metrics->publish_requests.inc();
  bool has_channel = false;
  std::string channel = query_param(req.query(), "channel", &has_channel);
  if (!has_channel) channel = "default";
  if (!valid_channel(channel)) {
    answer.send(server_response::error(400, "channel: 1-64 of A-Z a-z 0-9 . _ - (not starting with '.')"));
    return;
  }
  std::string key(req.header("idempotency-key"));
  if (key.size() > max_idempotency_key ||
      std::any_of(key.begin(), key.end(), [](char c) { return c < 0x21 || c > 0x7e; })) {
    answer.send(server_response::error(400, "Idempotency-Key: at most 200 visible ASCII characters"));
    return;
  }
  std::string type = lower_media_type(req.header("content-type"));
  formats::parse_result parsed;
  std::string error;
  if (type == "application/feed+json" || type == "application/json") {
    parsed = parse_json_body(req.body, error);
  } else if (type == "application/rss+xml" || type == "application/atom+xml" || type == "application/xml" ||
             type == "text/xml" || type == "application/rdf+xml") {
    parsed = formats::parse_xml(req.body);
  } else {
    answer.send(server_response::error(415, "Content-Type: application/feed+json (an item or a document), "
                                            "application/json, application/rss+xml or application/atom+xml"));
    return;
  }
  if (!error.empty()) {
    answer.send(server_response::error(400, error));
    return;
  }
  if (!parsed.value) {
    std::string why = parsed.diagnostics.empty() ? "no feed in the body" : parsed.diagnostics.front().message;
    answer.send(server_response::error(400, "not a feed: " + why));
    return;
  }
  const formats::feed& doc = *parsed.value;
  if (doc.items.empty()) {
    answer.send(server_response::error(400, "no items in the body"));
    return;
  }
  if (doc.items.size() > max_items_per_publish) {
    answer.send(server_response::error(413, "at most 10000 items per publish"));
    return;
  }
  engine::append_request ar;
  ar.idempotency_key = std::move(key);
  ar.entries.reserve(doc.items.size());
  for (const auto& it : doc.items) ar.entries.push_back(encode_item(doc, it, channel, "publish"));
  std::size_t n = ar.entries.size();
  api_context* c = &ctx;
  ctx.db->append(std::move(ar), [c, n, answer, started](engine::store_result<engine::appended> r) {
    // The store's writer thread: the records are on disk (or the write failed).
    if (!r.ok()) {
      answer.send(server_response::error(503, "the store could not take the items: " + r.status.message));
      return;
    }
    if (!r.value.duplicate) c->metrics->items_in.inc(n);
    std::string body = "{\"seqs\":[";
    for (std::size_t i = 0; i < r.value.seqs.size(); ++i) {
      if (i) body += ',';
      body += std::to_string(r.value.seqs[i]);
    }
    body += "],\"duplicate\":";
    body += r.value.duplicate ? "true" : "false";
    body += "}";
    answer.send(server_response::json(202, std::move(body)));
    c->fan->notify();
    c->metrics->publish_duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });
}

}  // namespace syndic::daemon::routes
