#pragma once
// Where the load test's items go: syndic in this process, or a daemon through its API. Both
// take the outlets (URLs on the sink), the items to publish, and say what their engine did.

#include "testkit/loadtest_parts.hpp"

#include <syndic/formats/model.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace syndic::testkit::detail {

struct engine_figures {
  std::uint64_t attempts = 0, retries = 0, dead_letters = 0, delivered = 0, ended = 0;
  double peak_rss_mb = 0, cpu_s = 0;
  std::string note;
};

class loadtest_target {
public:
  virtual ~loadtest_target() = default;
  // Adds the outlets (url[j] for outlet j); "" or what went wrong.
  virtual std::string add_outlets(const loadtest_options& o, const loadtest_plan& plan,
                                  const std::vector<std::string>& urls) = 0;
  // Publishes what it can of `items` now; returns how many were taken (0: full, try later),
  // or sets `error`.
  virtual std::size_t publish(const formats::feed& source, std::span<const formats::item> items, std::string& error) = 0;
  // Every pair published so far has ended (delivered, dead-lettered, ...).
  virtual bool settled(std::uint64_t pairs_published) = 0;
  virtual engine_figures figures() = 0;
  virtual void finish() = 0;  // stops the engine, or removes the outlets from the daemon
};

std::unique_ptr<loadtest_target> make_in_process_target(const loadtest_options& o);
std::unique_ptr<loadtest_target> make_daemon_target(const loadtest_options& o);

}  // namespace syndic::testkit::detail
