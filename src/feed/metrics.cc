// Prometheus textfile metrics: see metrics.h.
#include "feed/metrics.h"

#include "core/file_io.h"

namespace noreboot::feed {

std::string metrics_text(const FeedState& s, bool ok) {
  std::string t;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    t += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
  };
  metric("noreboot_feed_last_run_timestamp_seconds", "gauge", "When the feed last ran (Unix time).",
         static_cast<std::uint64_t>(s.last_run));
  metric("noreboot_feed_last_success_timestamp_seconds", "gauge", "When a feed run last succeeded (Unix time).",
         static_cast<std::uint64_t>(s.last_success));
  metric("noreboot_feed_last_run_success", "gauge", "1 when the last run succeeded.", ok ? 1 : 0);
  metric("noreboot_feed_fixes_found_total", "counter", "Fixes read from new Debian versions.", s.counters.found);
  metric("noreboot_feed_fixes_built_total", "counter", "Fixes built into at least one bundle.", s.counters.built);
  metric("noreboot_feed_bundles_tested_total", "counter", "Bundles that passed their QEMU test.", s.counters.tested);
  metric("noreboot_feed_fixes_published_total", "counter", "Fix records published.", s.counters.published);
  metric("noreboot_feed_failures_total", "counter", "Failed runs and failed kernel tests.", s.counters.failures);
  metric("noreboot_feed_audit_failures_total", "counter",
         "Audit entries the server did not record (the runs went on without them).", s.counters.audit_failures);
  return t;
}

Status write_metrics(const std::filesystem::path& file, const FeedState& state, bool ok) {
  std::string text = metrics_text(state, ok);
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  return write_file(file, as_bytes(text), {.mode = 0644});
}

}  // namespace noreboot::feed
