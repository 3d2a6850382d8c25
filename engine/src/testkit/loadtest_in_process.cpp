// The in-process target: a syndic::engine in this process, its outlets on the sink.

#include "testkit/loadtest_targets.hpp"

#include <syndic/engine/engine.hpp>

#include <sys/resource.h>

namespace syndic::testkit::detail {
namespace {

class in_process final : public loadtest_target {
public:
  explicit in_process(const loadtest_options& o) {
    engine::engine_options eo;
    eo.shards = o.shards;
    // A scenario's faults must end within seconds, not the production policy's hours.
    eo.breaker_cooldown = std::chrono::milliseconds(500);
    engine_ = std::make_unique<engine::engine>(eo);
  }

  std::string add_outlets(const loadtest_options& o, const loadtest_plan& plan, const std::vector<std::string>& urls) override {
    for (std::size_t j = 0; j < urls.size(); ++j) {
      engine::outlet_config c;
      c.id = "lt-" + std::to_string(plan.run) + "-" + std::to_string(j);
      c.url = urls[j];
      c.format = *engine::payload_format_from_string(plan.outlet_format[j]);
      c.secret = c.format == engine::payload_format::webhook ? o.secret : "";
      c.ordered = plan.ordered[j];
      c.max_in_flight = o.max_in_flight;
      c.timeout = std::chrono::milliseconds(o.outlet_timeout_ms);
      c.retry.base = std::chrono::milliseconds(100);
      c.retry.factor = 2;
      c.retry.cap = std::chrono::milliseconds(2000);
      c.retry.max_attempts = 20;
      c.retry.max_retry_after = std::chrono::seconds(2);
      if (std::string e = engine_->add_outlet(std::move(c)); !e.empty()) return "outlet " + std::to_string(j) + ": " + e;
    }
    return "";
  }

  std::size_t publish(const formats::feed& source, std::span<const formats::item> items, std::string& error) override {
    engine::submit_result r = engine_->submit(source, items);
    if (r.status == engine::submit_status::engine_full) return 0;
    if (r.status == engine::submit_status::stopped) {
      error = "the engine stopped";
      return 0;
    }
    refused_ += r.refused;
    return items.size();
  }

  bool settled(std::uint64_t) override { return engine_->pending() == 0; }

  engine_figures figures() override {
    auto s = engine_->stats();
    engine_figures f;
    f.attempts = s.attempts;
    f.retries = s.retries;
    f.dead_letters = s.dead_lettered + s.gave_up + s.expired + s.retired + refused_;
    f.delivered = s.delivered;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    f.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
    f.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
              static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    f.note = "this process: the engine and the sink together (getrusage)";
    return f;
  }

  void finish() override { engine_->stop(); }

private:
  std::unique_ptr<engine::engine> engine_;
  std::uint64_t refused_ = 0;
};

}  // namespace

std::unique_ptr<loadtest_target> make_in_process_target(const loadtest_options& o) {
  return std::make_unique<in_process>(o);
}

}  // namespace syndic::testkit::detail
