#include "builder/steps.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/log.h"

namespace noreboot::builder {

double Stopwatch::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Stopwatch::text() const {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << seconds() << " s";
  return out.str();
}

void StepClock::announce(const std::string& what) {
  if (open_.empty()) {
    log::info("{}", what);
    return;
  }
  open_.back()->announce(what);
}

double StepClock::total() const {
  double t = 0;
  for (const auto& s : steps_)
    if (s.depth == 0) t += s.seconds;
  return t;
}

std::string StepClock::summary() const {
  constexpr int kWidth = 22;
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  for (const auto& s : steps_) {
    int indent = 2 + 2 * s.depth;
    out << std::string(indent, ' ') << std::left << std::setw(std::max(1, kWidth + 2 - indent)) << s.name << s.seconds
        << " s\n";
  }
  out << "  " << std::left << std::setw(kWidth) << "total" << total() << " s\n";
  return out.str();
}

StepTimer::StepTimer(StepClock& clock, std::string name, const std::string& what)
    : clock_(clock), name_(std::move(name)), slot_(clock.steps_.size()) {
  clock_.steps_.push_back({name_, 0, static_cast<int>(clock_.open_.size())});
  clock_.open_.push_back(this);
  if (!what.empty()) announce(what);
}

StepTimer::~StepTimer() {
  double seconds = watch_.seconds();
  clock_.steps_[slot_].seconds = seconds;
  // Timers are scopes, so this one is the innermost open step.
  if (!clock_.open_.empty() && clock_.open_.back() == this) clock_.open_.pop_back();
  if (announced_) log::info("[{}] {} {}", name_, failed_ ? "failed after" : "done in", watch_.text());
}

void StepTimer::announce(const std::string& what) {
  log::info("[{}] {}", name_, what);
  announced_ = true;
}

}  // namespace noreboot::builder
