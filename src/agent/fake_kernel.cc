#include "agent/fake_kernel.h"

#include <unistd.h>

#include <cstring>

#include "agent/fs_util.h"
#include "core/bytes.h"
#include "agent/modinfo.h"

namespace noreboot::agent {

namespace fs = std::filesystem;

namespace {

constexpr int kStalledPid = 4242;

Status remove_tree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) return Error(Errc::io, "cannot remove " + p.string() + ": " + ec.message());
  return ok_status();
}

Status put(const fs::path& p, std::string_view text) { return write_text(p, text); }

}  // namespace

std::string make_build_id_note(const std::string& hex) {
  // The fake kernel's own build ID (a constant of the test setup): not hex is a test bug.
  std::string desc(as_chars(from_hex(hex).value_or(Bytes{})));
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  std::string note = u32(4) + u32(static_cast<uint32_t>(desc.size())) + u32(3 /* NT_GNU_BUILD_ID */);
  note += std::string("GNU\0", 4);
  note += desc;
  while (note.size() % 4) note.push_back('\0');
  return note;
}

Status FakeKernel::create(const fs::path& root, const FakeHost& host) {
  for (const char* d : {"sys/kernel/livepatch", "sys/module", "proc/sys/kernel/random", "dev", "fake"})
    NR_TRY_STATUS(make_dirs(root / d));
  NR_TRY_STATUS(put(root / "proc/sys/kernel/osrelease", host.release + "\n"));
  NR_TRY_STATUS(put(root / "proc/version", host.version + "\n"));
  NR_TRY_STATUS(put(root / "proc/sys/kernel/arch", host.arch + "\n"));
  NR_TRY_STATUS(put(root / "sys/kernel/notes", make_build_id_note(host.build_id_hex)));
  NR_TRY_STATUS(put(root / "proc/sys/kernel/random/boot_id", host.boot_id + "\n"));
  if (!fs::exists(root / "dev/kmsg")) NR_TRY_STATUS(put(root / "dev/kmsg", ""));
  return ok_status();
}

Status FakeKernel::reboot(const fs::path& root, const std::string& new_boot_id) {
  NR_TRY_STATUS(remove_tree(root / "sys/kernel/livepatch"));
  NR_TRY_STATUS(remove_tree(root / "sys/module"));
  NR_TRY_STATUS(remove_tree(root / "proc" / std::to_string(kStalledPid)));
  NR_TRY_STATUS(make_dirs(root / "sys/kernel/livepatch"));
  NR_TRY_STATUS(make_dirs(root / "sys/module"));
  NR_TRY_STATUS(put(root / "dev/kmsg", ""));
  return put(root / "proc/sys/kernel/random/boot_id", new_boot_id + "\n");
}

Status FakeKernel::log(const fs::path& root, int level, const std::string& text) {
  FakeKernel k(root);
  NR_TRY(uint64_t seq, k.kmsg_next_seq());
  NR_TRY(std::string old, read_text(root / "dev/kmsg"));
  old += std::to_string(level) + "," + std::to_string(seq) + "," + std::to_string(seq * 1000) +
         ",-;" + text + "\n";
  return put(root / "dev/kmsg", old);
}

Status FakeKernel::load_module(int fd, const std::string& /*params*/) {
  std::string bytes;
  char buf[65536];
  ssize_t n;
  ::lseek(fd, 0, SEEK_SET);
  while ((n = ::read(fd, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
  if (n < 0) return Error(Errc::io, "finit_module failed: cannot read module: " + errno_text(errno));
  auto info = read_modinfo(bytes);
  if (!info.ok())
    return Error(Errc::refused, "finit_module failed: " + errno_text(ENOEXEC) + ": " +
                                    info.error().message());
  std::string name = info->name();
  if (name.empty()) return Error(Errc::refused, "finit_module failed: " + errno_text(ENOEXEC));
  if (fs::exists(root_ / "sys/module" / name))
    return Error(Errc::conflict, "finit_module failed: " + errno_text(EEXIST));
  if (fs::exists(root_ / "fake/reject")) {
    std::string why = read_trimmed(root_ / "fake/reject").value_or("livepatch: failed");
    NR_TRY_STATUS(remove_tree(root_ / "fake/reject"));
    NR_TRY_STATUS(log(root_, 3, why));
    return Error(Errc::refused, "finit_module failed: " + errno_text(EINVAL));
  }
  NR_TRY_STATUS(make_dirs(root_ / "sys/module" / name));
  if (!info->is_livepatch()) return ok_status();
  fs::path dir = livepatch_dir() / name;
  NR_TRY_STATUS(make_dirs(dir));
  NR_TRY_STATUS(put(dir / "enabled", "1\n"));
  NR_TRY_STATUS(put(dir / "transition", "1\n"));
  NR_TRY_STATUS(put(dir / "signal", ""));
  NR_TRY_STATUS(put(dir / "force", ""));
  NR_TRY_STATUS(log(root_, 5, "livepatch: enabling patch '" + name + "'"));
  NR_TRY_STATUS(log(root_, 6, "livepatch: '" + name + "': starting patching transition"));
  if (fs::exists(root_ / "fake/warn_on_load"))
    NR_TRY_STATUS(log(root_, 4, read_trimmed(root_ / "fake/warn_on_load").value_or("WARNING: fake")));
  if (fs::exists(root_ / "fake/stall")) {
    std::string func = read_trimmed(root_ / "fake/stall").value_or("stalled_func");
    if (func.empty()) func = "stalled_func";
    fs::path task = root_ / "proc" / std::to_string(kStalledPid) / "task" / std::to_string(kStalledPid);
    NR_TRY_STATUS(make_dirs(task));
    NR_TRY_STATUS(put(task / "comm", "stalled\n"));
    NR_TRY_STATUS(put(task / "patch_state", "0\n"));
    NR_TRY_STATUS(put(task / "stack", "[<0>] msleep+0x2d/0x40\n[<0>] " + func +
                                          "+0x15/0x30 [stall_target]\n[<0>] kthread+0xd7/0x100\n"));
    return ok_status();
  }
  return complete_transition(name);
}

Status FakeKernel::complete_transition(const std::string& name) {
  fs::path dir = livepatch_dir() / name;
  NR_TRY_STATUS(put(dir / "transition", "0\n"));
  NR_TRY_STATUS(remove_tree(root_ / "proc" / std::to_string(kStalledPid)));
  NR_TRY_STATUS(log(root_, 6, "livepatch: '" + name + "': patching complete"));
  // replace = true: the new patch takes over from every earlier one.
  NR_TRY(auto names, list_dir(livepatch_dir()));
  for (const auto& other : names)
    if (other != name) NR_TRY_STATUS(remove_tree(livepatch_dir() / other));
  return ok_status();
}

Status FakeKernel::unload_module(const std::string& name) {
  if (!fs::exists(root_ / "sys/module" / name))
    return Error(Errc::not_found, "module " + name + " is not loaded");
  if (fs::exists(livepatch_dir() / name))
    return Error(Errc::conflict, "module " + name + " is still in use: " + errno_text(EBUSY));
  return remove_tree(root_ / "sys/module" / name);
}

Status FakeKernel::disable_livepatch(const std::string& name) {
  NR_TRY(auto info, livepatch(name));
  if (!info) return Error(Errc::not_found, "no livepatch " + name);
  if (!info->enabled && !info->transition)
    return Error(Errc::io, "writing '0' to enabled failed: " + errno_text(EINVAL));
  NR_TRY_STATUS(log(root_, 6, "livepatch: '" + name + "': " +
                                  (info->transition ? "reversing transition from patching to unpatching"
                                                    : "starting unpatching transition")));
  NR_TRY_STATUS(remove_tree(root_ / "proc" / std::to_string(kStalledPid)));
  NR_TRY_STATUS(log(root_, 6, "livepatch: '" + name + "': unpatching complete"));
  return remove_tree(livepatch_dir() / name);
}

Status FakeKernel::signal_livepatch(const std::string& name) {
  NR_TRY(auto info, livepatch(name));
  if (!info) return Error(Errc::not_found, "no livepatch " + name);
  if (!fs::exists(livepatch_dir() / name / "signal"))
    return Error(Errc::not_found, "cannot open " + (livepatch_dir() / name / "signal").string() +
                                      " for writing: " + errno_text(ENOENT));
  if (!info->transition) return Error(Errc::io, "writing '1' to signal failed: " + errno_text(EINVAL));
  NR_TRY_STATUS(log(root_, 6, "livepatch: signaling remaining tasks"));
  auto stall = read_text(root_ / "fake/stall");
  if (stall.ok() && stall->find("\nsignal") != std::string::npos) return complete_transition(name);
  return ok_status();
}

Result<std::vector<KmsgRecord>> FakeKernel::kmsg_since(uint64_t from) {
  auto text = read_text(root_ / "dev/kmsg");
  std::vector<KmsgRecord> out;
  if (!text.ok()) {
    if (text.error().code() == Errc::not_found) return out;
    return text.error();
  }
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    if (auto r = parse_kmsg_record(std::string_view(*text).substr(pos, nl - pos)); r && r->seq >= from)
      out.push_back(std::move(*r));
    pos = nl + 1;
  }
  return out;
}

Result<uint64_t> FakeKernel::kmsg_next_seq() {
  NR_TRY(auto all, kmsg_since(0));
  return all.empty() ? uint64_t{0} : all.back().seq + 1;
}

}  // namespace noreboot::agent
