#pragma once
// Sources from the operator's files: a `--sources FILE` CSV (or TOML, by extension), and the
// `[[source]]` tables of the daemon's config file. Every problem is reported as
// `FILE:LINE: column 'x': ...` (engine::config_error, as the outlets file does); the result
// holds sources only when there was no error at all (nothing starts half-loaded).
//
// CSV: a header row names the columns; `id,url` are required, the others optional:
//   id,url,channel,min_interval,max_interval,tags,headers,enabled,republish_updates
//   - intervals: seconds ("300"), or a number with a unit: "90s", "5m", "2h", "1d";
//   - tags: a list separated by ';' ("lang:en;business");
//   - headers: "Name: value" items separated by ';' ("Authorization: Bearer x;X-Key: y"),
//     the outlets file's syntax (so a value cannot hold a ';');
//   - enabled, republish_updates: true/false (also yes/no, 1/0);
//   - an empty cell is the default; cells may be quoted ("a, b"; "" is a quote);
//   - blank lines and lines starting with '#' are skipped; a UTF-8 BOM is ignored.
// TOML: `[[source]]` tables with the same keys; intervals are integers (seconds) or strings
// with a unit; tags and headers are arrays of strings.
//
// Intervals left out take `source_defaults` (the settings' poll.min_interval_s and
// poll.max_interval_s). When only one bound is given and the default of the other would put
// them out of order, the other follows it: `min_interval = 7200` alone polls every 2 h.
//
// A source from a file may use file:// URLs (the operator's own); ids are unique per file
// (and across the config file and the sources file in load_file_sources).

#include "poll/source.hpp"

#include <syndic/engine/outlet.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::poll {

// Bounds every source is held to (check_source).
inline constexpr std::chrono::seconds min_poll_interval{1};
inline constexpr std::chrono::seconds max_poll_interval{30 * 24 * 3600};
inline constexpr std::size_t max_url_bytes = 4096;
inline constexpr std::size_t max_tags = 64, max_tag_bytes = 200, max_headers = 32;

struct source_defaults {
  std::chrono::seconds min_interval{60};
  std::chrono::seconds max_interval{3600};
};

struct sources_result {
  std::vector<source> sources;
  std::vector<engine::config_error> errors;
  bool ok() const { return errors.empty(); }
};

// By the file's extension: .toml is TOML ([[source]] tables), anything else CSV.
sources_result load_sources(const std::string& path, const source_defaults& defaults = {});
sources_result parse_sources_csv(std::string_view text, const std::string& name, const source_defaults& defaults = {});
// `[[source]]` tables of a TOML document; other keys and tables are ignored (the daemon's
// config file holds its settings beside them). No `source` key at all: no sources, no error.
sources_result parse_sources_toml(std::string_view text, const std::string& name, const source_defaults& defaults = {});
// The `[[source]]` tables of the daemon's config file (`syndic run --config`).
sources_result load_sources_from_config(const std::string& path, const source_defaults& defaults = {});

// Both files of a daemon: the config file's [[source]] tables (when `config_path` is not
// empty) and the sources file (when `sources_path` is not empty), with ids unique across
// both. For start-up and SIGHUP: errors mean keep the running set.
sources_result load_file_sources(const std::string& config_path, const std::string& sources_path,
                                 const source_defaults& defaults = {});

// Field rules shared by the files and the API's JSON (source_json.hpp). Each returns "" when
// the value was taken, else what is wrong (never quoting a header value or URL userinfo).
// `key` is a column name; false when there is no such column.
bool is_source_key(std::string_view key);
std::string known_source_keys();  // "channel, enabled, headers, ..."
// Sets `key` from its CSV cell form (lists separated by ';').
std::string set_source_field(source& s, std::string_view key, std::string_view cell);
// Pieces check_source uses (source.cpp).
std::string check_header_entry(std::string_view name, std::string_view value);
std::string check_channel(std::string_view name);
std::string check_tag(std::string_view tag);
// "300", "90s", "5m", "2h", "1d" -> seconds; nullopt when not one of those or out of range.
std::optional<std::chrono::seconds> parse_interval(std::string_view text);

// Applies `defaults` to the bounds a source did not set (see above).
void apply_interval_defaults(source& s, bool has_min, bool has_max, const source_defaults& defaults);

}  // namespace syndic::poll
