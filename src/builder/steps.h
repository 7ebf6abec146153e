// Timing the builder's passes: one RAII timer, one clock that keeps the list.
//
// Problem: a build is a list of passes (build.h), some with sub-steps (the prepare pass fetches,
// unpacks and configures a tree; the record pass may run Kbuild). People watching a build want
// to see each long step start and end; benchmarks (bench/build_bench.sh) read the `timings:`
// block printed at the end; and a step that is left by an early error return must still be
// closed, or the list lies.
//
// Approach: a StepTimer is a scope. It takes its start time when constructed and records the
// step's seconds in the StepClock when destroyed, whatever path leaves the scope, so a step can
// never be left open. Timers nest: a timer opened while another is open is its sub-step, and the
// summary indents it under its parent; `total` adds up the outermost steps only, so nothing is
// counted twice. A step is quiet unless someone announces it: StepTimer(clock, name, what), or
// StepClock::announce(what) from inside the step (a pass announces what it is doing once it
// knows: "[stage] applying 2 fix(es) ..."). An announced step prints "[name] what" when
// announced and "[name] done in X.Y s" when it ends (or "failed after" when its owner said it
// failed): the progress lines tests and people read. Quiet steps (reading the fix, making the
// work folder) are still timed and listed.
// Stopwatch is the one way the builder reads elapsed time; StepTimer is built on it.
// Not thread-safe: one clock per build, timers opened and closed on the build's thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace noreboot::builder {

// Seconds since construction.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const;
  std::string text() const;  // "1.2 s"

 private:
  std::chrono::steady_clock::time_point start_;
};

struct StepTime {
  std::string name;
  double seconds = 0;
  int depth = 0;  // 0: a pass; 1: a sub-step of the pass above it; ...
};

class StepTimer;

class StepClock {
 public:
  // Prints "[name] what" for the innermost open step and makes it print its end. With no step
  // open, prints WHAT alone.
  void announce(const std::string& what);
  // Every finished step, in the order they started (a sub-step after its parent).
  const std::vector<StepTime>& steps() const { return steps_; }
  // The outermost steps' seconds added up.
  double total() const;
  // "  name   1.23 s" per step (sub-steps indented two more), then "  total ...".
  std::string summary() const;

 private:
  friend class StepTimer;
  std::vector<StepTime> steps_;
  std::vector<StepTimer*> open_;  // innermost last
};

class StepTimer {
 public:
  // Opens step NAME in CLOCK; a non-empty WHAT announces it ("[name] what").
  StepTimer(StepClock& clock, std::string name, const std::string& what = "");
  // Records the step's seconds; prints "[name] done in X.Y s" if the step was announced.
  ~StepTimer();
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

  void announce(const std::string& what);
  // The step ends in an error: an announced step prints "failed after X.Y s" instead.
  void failed() { failed_ = true; }
  const std::string& name() const { return name_; }

 private:
  StepClock& clock_;
  std::string name_;
  size_t slot_;  // index of this step in clock_.steps_
  Stopwatch watch_;
  bool announced_ = false;
  bool failed_ = false;
};

}  // namespace noreboot::builder
