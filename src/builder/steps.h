// Step timing: every long step prints its name when it starts and its elapsed seconds when it
// ends, and the run keeps the list for the summary printed at the end of a build.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace noreboot::builder {

struct StepTime {
  std::string name;
  double seconds = 0;
};

class StepClock {
 public:
  // Prints "[name] what..." and returns the start time.
  void begin(const std::string& name, const std::string& what);
  // Prints "[name] done in X.Y s" and records it.
  void end(const std::string& name);
  const std::vector<StepTime>& steps() const { return steps_; }
  double total() const;
  std::string summary() const;

 private:
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> open_;
  std::vector<StepTime> steps_;
};

// Seconds since `start`, one decimal.
std::string elapsed_text(std::chrono::steady_clock::time_point start);

}  // namespace noreboot::builder
