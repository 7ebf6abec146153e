#include "builder/steps.h"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include "core/log.h"

namespace noreboot::builder {

std::string elapsed_text(std::chrono::steady_clock::time_point start) {
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << d.count() << " s";
  return out.str();
}

void StepClock::begin(const std::string& name, const std::string& what) {
  log::info("[{}] {}", name, what);
  open_.emplace_back(name, std::chrono::steady_clock::now());
}

void StepClock::end(const std::string& name) {
  for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
    if (it->first != name) continue;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - it->second;
    steps_.push_back({name, d.count()});
    log::info("[{}] done in {}", name, elapsed_text(it->second));
    open_.erase(std::next(it).base());
    return;
  }
}

double StepClock::total() const {
  double t = 0;
  for (const auto& s : steps_) t += s.seconds;
  return t;
}

std::string StepClock::summary() const {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  for (const auto& s : steps_) out << "  " << std::left << std::setw(22) << s.name << s.seconds << " s\n";
  out << "  " << std::left << std::setw(22) << "total" << total() << " s\n";
  return out.str();
}

}  // namespace noreboot::builder
