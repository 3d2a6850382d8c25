#pragma once
// A source: a feed syndic polls (or is pushed by a WebSub hub), and where its items go.
// Sources come from the config file (`[[source]]` tables), a `--sources FILE` CSV, and the
// admin API (/v1/sources, kept in the store); SIGHUP reloads the files.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::poll {

struct source {
  std::string id;       // 1-128 of [A-Za-z0-9._-]; names the source in items, filters, the API
  std::string url;      // http://, https:// or file:// (file: trusted configs only, never the API)
  std::string channel;  // the channel its items go to; empty: "default"
  // Outlet filters match these: "lang:xx" (or "language:xx") gives items without a language
  // that language; every other tag is added to each item's categories.
  std::vector<std::string> tags;
  std::chrono::seconds min_interval{60};   // never polled more often than this
  std::chrono::seconds max_interval{3600}; // never polled less often than this (errors aside)
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers (credentials)
  bool enabled = true;
  // An item seen before (same identity) whose content changed is published again (with a new
  // delivery id) only when this is set.
  bool republish_updates = false;
  std::string origin;  // where it was defined, for messages: "sources.csv:12", "api"

  friend bool operator==(const source&, const source&) = default;
};

// Checks a source's fields (id, URL scheme and syntax, intervals in order and > 0, header
// names and values without CR/LF or reserved names). Returns "" when it can be used, else what
// is wrong; secrets (URL userinfo, header values) are never quoted.
// `allow_file`: file:// URLs are accepted (config files, not the API).
std::string check_source(const source& s, bool allow_file);

}  // namespace syndic::poll
