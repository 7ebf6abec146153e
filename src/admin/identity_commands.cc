// noreboot-admin kernel-id: the exact identity of a kernel image or of the running kernel.
#include <nlohmann/json.hpp>

#include <ostream>

#include "admin/command.h"
#include "core/kernel_identity.h"

namespace noreboot::admin {
namespace {

constexpr const char* kUsage = R"(usage: noreboot-admin kernel-id [--json] (IMAGE | --running [--root DIR])

Prints the identity a bundle targets: release, the /proc/version text, the GNU build ID and the
architecture.
  IMAGE          a vmlinux (ELF) or an x86 bzImage vmlinuz (xz payload)
  --running      the kernel this command runs on (/proc and /sys/kernel/notes)
  --root DIR     read proc/ and sys/ under DIR instead of / (with --running)
  --json         one JSON object {"release","version","build_id","arch"}
)";

Status kernel_id(const ParsedArgs& args, Context& ctx) {
  Result<KernelIdentity> id = Error(Errc::internal, "unset");
  if (args.flag("running")) {
    if (!args.positional.empty()) return Error(Errc::invalid_argument, "give either IMAGE or --running, not both");
    id = read_running_kernel(args.value("root").value_or("/"));
  } else {
    if (args.positional.size() != 1) return Error(Errc::invalid_argument, "expected one IMAGE or --running");
    if (args.value("root")) return Error(Errc::invalid_argument, "--root only applies to --running");
    id = read_kernel_image(args.positional[0]);
  }
  if (!id) return std::move(id).error();
  if (args.flag("json")) {
    nlohmann::ordered_json j{{"release", id->release}, {"version", id->version},
                             {"build_id", id->build_id}, {"arch", id->arch}};
    ctx.out << j.dump() << "\n";
  } else {
    ctx.out << "release:  " << id->release << "\n"
            << "version:  " << id->version << "\n"
            << "build id: " << id->build_id << "\n"
            << "arch:     " << id->arch << "\n";
  }
  return ok_status();
}

}  // namespace

void register_identity_commands(CommandTable& table) {
  table.push_back({"kernel-id", "print a kernel's identity (image file or running kernel)", kUsage,
                   {{"json", 0, false}, {"running", 0, false}, {"root"}}, kernel_id});
}

}  // namespace noreboot::admin
