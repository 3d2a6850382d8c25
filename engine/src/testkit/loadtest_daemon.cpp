// The daemon target: a `syndic run` at a URL. Outlets are added through /v1/outlets (and
// removed at the end), items published through /v1/publish, its counters read from /metrics.

#include "testkit/loadtest_targets.hpp"

#include <syndic/formats/render.hpp>

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace syndic::testkit::detail {
namespace {

// The sum of a metric's samples (all label sets), from Prometheus text.
double metric_sum(std::string_view text, std::string_view name, std::string_view label_filter = {}) {
  double sum = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    auto eol = text.find('\n', at);
    std::string_view line = text.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
    at = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    if (!label_filter.empty() && line.find(label_filter) == std::string_view::npos) continue;
    auto sp = line.rfind(' ');
    double v = 0;
    std::from_chars(line.data() + sp + 1, line.data() + line.size(), v);
    sum += v;
  }
  return sum;
}

class daemon final : public loadtest_target {
public:
  explicit daemon(const loadtest_options& o) : o_(o) {
    baseline_ = scrape();
  }

  std::string add_outlets(const loadtest_options& o, const loadtest_plan& plan, const std::vector<std::string>& urls) override {
    for (std::size_t j = 0; j < urls.size(); ++j) {
      std::string id = "lt-" + std::to_string(plan.run) + "-" + std::to_string(j);
      std::string body = "{\"id\":\"" + id + "\",\"url\":\"" + urls[j] + "\",\"format\":\"" + plan.outlet_format[j] + "\"" +
                         (plan.outlet_format[j] == "webhook" ? ",\"secret\":\"" + o.secret + "\"" : std::string()) +
                         ",\"ordered\":" + (plan.ordered[j] ? "true" : "false") +
                         ",\"max_in_flight\":" + std::to_string(o.max_in_flight) +
                         ",\"timeout_ms\":" + std::to_string(o.outlet_timeout_ms) +
                         ",\"retry_base_ms\":100,\"retry_factor\":2,\"retry_cap_ms\":2000,\"retry_max_attempts\":20}";
      http_answer a = http_call(o.target, "POST", "/v1/outlets", o.token, "application/json", body);
      if (a.status != 201 && a.status != 200)
        return "POST /v1/outlets (outlet " + std::to_string(j) + "): " +
               (a.status ? "HTTP " + std::to_string(a.status) + " " + a.body.substr(0, 300) : a.error);
      ids_.push_back(id);
    }
    return "";
  }

  std::size_t publish(const formats::feed& source, std::span<const formats::item> items, std::string& error) override {
    std::size_t n = std::min<std::size_t>(items.size(), 1000);
    formats::feed doc = source;
    doc.items.assign(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(n));
    std::string body;
    formats::render_json(doc, body);
    http_answer a = http_call(o_.target, "POST", "/v1/publish?channel=loadtest", o_.token, "application/feed+json", body);
    if (a.status == 429 || a.status == 503) return 0;  // the daemon's back-pressure: later
    if (a.status != 202 && a.status != 200) {
      error = "POST /v1/publish: " + (a.status ? "HTTP " + std::to_string(a.status) + " " + a.body.substr(0, 300) : a.error);
      return 0;
    }
    return n;
  }

  bool settled(std::uint64_t pairs) override {
    auto now = std::chrono::steady_clock::now();
    if (now - last_settle_check_ < std::chrono::milliseconds(500)) return false;
    last_settle_check_ = now;
    engine_figures f = scrape();
    return f.ended - baseline_.ended >= pairs;
  }

  engine_figures figures() override {
    engine_figures f = scrape();
    f.attempts -= std::min(f.attempts, baseline_.attempts);
    f.retries -= std::min(f.retries, baseline_.retries);
    f.dead_letters -= std::min(f.dead_letters, baseline_.dead_letters);
    f.delivered -= std::min(f.delivered, baseline_.delivered);
    if (o_.daemon_pid > 0) {
      std::ifstream status("/proc/" + std::to_string(o_.daemon_pid) + "/status");
      for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmHWM:")) f.peak_rss_mb = std::stod(line.substr(6)) / 1024.0;
      std::ifstream stat("/proc/" + std::to_string(o_.daemon_pid) + "/stat");
      std::string all((std::istreambuf_iterator<char>(stat)), {});
      if (auto paren = all.rfind(')'); paren != std::string::npos) {
        std::istringstream in(all.substr(paren + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && in >> field; ++i) {
          if (i == 14) utime = std::stod(field);
          if (i == 15) stime = std::stod(field);
        }
        f.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
      }
      f.note = "daemon pid " + std::to_string(o_.daemon_pid) + " (/proc: VmHWM, utime+stime)";
    } else {
      f.note = "daemon at " + o_.target + ": memory and CPU not known (give --daemon-pid)";
    }
    return f;
  }

  void finish() override {
    for (const auto& id : ids_) http_call(o_.target, "DELETE", "/v1/outlets/" + id + "?forget=1", o_.token, "", "");
  }

private:
  engine_figures scrape() {
    engine_figures f;
    http_answer a = http_call(o_.target, "GET", "/metrics", o_.token, "", "", 5);
    if (a.status != 200) return f;
    f.attempts = static_cast<std::uint64_t>(metric_sum(a.body, "syndic_attempts_total"));
    f.retries = static_cast<std::uint64_t>(metric_sum(a.body, "syndic_retries_total"));
    f.ended = static_cast<std::uint64_t>(metric_sum(a.body, "syndic_deliveries_total"));
    f.delivered = static_cast<std::uint64_t>(metric_sum(a.body, "syndic_deliveries_total", "outcome=\"delivered\""));
    f.dead_letters = f.ended - f.delivered;
    return f;
  }

  loadtest_options o_;
  engine_figures baseline_;
  std::vector<std::string> ids_;
  std::chrono::steady_clock::time_point last_settle_check_{};
};

}  // namespace

std::unique_ptr<loadtest_target> make_daemon_target(const loadtest_options& o) { return std::make_unique<daemon>(o); }

}  // namespace syndic::testkit::detail
