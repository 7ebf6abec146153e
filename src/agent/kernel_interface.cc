#include "agent/kernel_interface.h"

#include <charconv>
#include <chrono>
#include <thread>

#include "agent/fs_util.h"
#include "core/numbers.h"

namespace noreboot::agent {

namespace {

Result<bool> read_bool(const std::filesystem::path& path) {
  auto v = read_trimmed(path);
  if (!v.ok()) return v.error();
  if (*v == "1") return true;
  if (*v == "0") return false;
  return Error(Errc::invalid_input, path.string() + ": expected 0 or 1, read '" + *v + "'");
}

}  // namespace

Result<bool> ProcSysKernel::module_loaded(const std::string& name) {
  std::error_code ec;
  return std::filesystem::exists(root_ / "sys/module" / name, ec);
}

Result<std::optional<LivepatchInfo>> ProcSysKernel::livepatch(const std::string& name) {
  std::filesystem::path dir = livepatch_dir() / name;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::optional<LivepatchInfo>{};
  LivepatchInfo info;
  info.name = name;
  auto enabled = read_bool(dir / "enabled");
  auto transition = read_bool(dir / "transition");
  // The folder can vanish between the check and the reads (the patch was just freed).
  if (!enabled.ok() && enabled.error().code() == Errc::not_found) return std::optional<LivepatchInfo>{};
  if (!transition.ok() && transition.error().code() == Errc::not_found)
    return std::optional<LivepatchInfo>{};
  if (!enabled.ok()) return enabled.error();
  if (!transition.ok()) return transition.error();
  info.enabled = *enabled;
  info.transition = *transition;
  return std::optional<LivepatchInfo>{info};
}

Result<std::vector<LivepatchInfo>> ProcSysKernel::list_livepatches() {
  NR_TRY(auto names, list_dir(livepatch_dir()));
  std::vector<LivepatchInfo> out;
  for (const auto& name : names) {
    NR_TRY(auto info, livepatch(name));
    if (info) out.push_back(*info);
  }
  return out;
}

Status ProcSysKernel::disable_livepatch(const std::string& name) {
  return write_attribute(livepatch_dir() / name / "enabled", "0");
}

Status ProcSysKernel::signal_livepatch(const std::string& name) {
  return write_attribute(livepatch_dir() / name / "signal", "1");
}

Result<std::vector<BlockedTask>> ProcSysKernel::blocked_tasks(int target) {
  std::vector<BlockedTask> out;
  std::filesystem::path proc = root_ / "proc";
  NR_TRY(auto pids, list_dir(proc));
  for (const auto& pid : pids) {
    auto tgid = parse_decimal(pid, 9);  // /proc/self, /proc/sys ... are not processes
    if (!tgid) continue;
    auto tids = list_dir(proc / pid / "task");
    if (!tids.ok()) continue;  // the process exited while we looked
    for (const auto& tid : *tids) {
      auto tid_number = parse_decimal(tid, 9);
      if (!tid_number) continue;
      std::filesystem::path task = proc / pid / "task" / tid;
      auto state_text = read_trimmed(task / "patch_state");
      if (!state_text.ok()) continue;  // exited, or a kernel without CONFIG_LIVEPATCH
      int state = -1;
      const std::string& s = *state_text;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), state);
      if (ec != std::errc() || state == -1 || state == target) continue;
      BlockedTask t;
      t.pid = static_cast<int>(*tid_number);
      t.tgid = static_cast<int>(*tgid);
      t.patch_state = state;
      t.comm = read_trimmed(task / "comm").value_or("?");
      // The kernel prints no stack for a task that is running on another CPU at that moment:
      // read again a few times before giving up.
      for (int attempt = 0; attempt < 10; ++attempt) {
        auto stack = read_text(task / "stack");
        if (!stack.ok()) { t.stack = "(stack not readable: " + stack.error().message() + ")"; break; }
        t.stack = *stack;
        if (!t.stack.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (t.stack.empty()) t.stack = "(no stack: running) wchan " + read_trimmed(task / "wchan").value_or("?");
      out.push_back(std::move(t));
    }
  }
  return out;
}

Result<std::string> ProcSysKernel::boot_id() {
  return read_trimmed(root_ / "proc/sys/kernel/random/boot_id");
}

namespace {
class SeqCursor final : public KmsgCursor {
 public:
  SeqCursor(KernelInterface& k, uint64_t next) : kernel_(k), next_(next) {}
  Result<std::vector<KmsgRecord>> read_new() override {
    NR_TRY(auto recs, kernel_.kmsg_since(next_));
    if (!recs.empty()) next_ = recs.back().seq + 1;
    return recs;
  }

 private:
  KernelInterface& kernel_;
  uint64_t next_;
};
}  // namespace

Result<std::unique_ptr<KmsgCursor>> KernelInterface::kmsg_tail() {
  NR_TRY(uint64_t next, kmsg_next_seq());
  return std::unique_ptr<KmsgCursor>(std::make_unique<SeqCursor>(*this, next));
}

std::optional<KmsgRecord> parse_kmsg_record(std::string_view record) {
  // "6,1234,5678901,-;text\n" possibly followed by " KEY=value" continuation lines.
  auto semi = record.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view head = record.substr(0, semi);
  std::string_view text = record.substr(semi + 1);
  auto nl = text.find('\n');
  if (nl != std::string_view::npos) text = text.substr(0, nl);
  uint64_t fields[3] = {0, 0, 0};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t comma = head.find(',', pos);
    std::string_view f = head.substr(pos, comma == std::string_view::npos ? head.size() - pos : comma - pos);
    auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), fields[i]);
    if (ec != std::errc() || p != f.data() + f.size()) return std::nullopt;
    if (comma == std::string_view::npos) {
      if (i < 2) return std::nullopt;
      break;
    }
    pos = comma + 1;
  }
  KmsgRecord r;
  r.level = static_cast<int>(fields[0] & 7);
  r.seq = fields[1];
  r.usec = fields[2];
  r.text = std::string(text);
  return r;
}

}  // namespace noreboot::agent
