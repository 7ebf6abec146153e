// Livepatch module generation: from the differ's output object(s) to a loadable .ko.
//
// Problem: a livepatch module must carry what the running kernel checks when it loads a module
// (vermagic, `__versions` CRCs for every exported symbol it uses, .modinfo with
// `livepatch: Y` and a GPL licence, `.gnu.linkonce.this_module`) and register a klp_patch that
// names, for every patched object (vmlinux or a module), each function to replace with its
// old name, old_sympos and new code.
//
// Approach: the kernel's own build does the module part. We write a small C stub (klp_func,
// klp_object and klp_patch tables with replace = true, klp_enable_patch() in module_init) and
// a Kbuild file that links the stub with the prepared patch objects (`patch_N.o_shipped`, the
// output of prepare_patch_object(): no livepatch symbols in sight yet), then run
// `make -C <headers> M=<dir> CC=gcc-12 modules`, so modpost writes vermagic, CRCs and modinfo
// exactly as for any module of that kernel. Only after that final link does finalize_module()
// add the `.klp.rela`/`.klp.sym` parts (the way kpatch's create-klp-module works after its
// link too).
//
// The stub also imports the symbol namespaces of the vmlinux exports the patch calls
// (MODULE_INFO(import_ns, ...)); modpost refuses the module otherwise. Module exports never
// reach modpost (klp_convert.h), so the finished module's `depends=` must be empty: a last check
// reads it back and refuses to leave a module that would load only where another is loaded.
//
// Kbuild's make costs seconds of start-up and rule evaluation; by default the link replays
// Kbuild's own recorded commands instead (kbuild_direct.h, proven byte-identical by a test),
// with `Link::kbuild` to run make itself. Timings are reported per step.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "klp/callbacks.h"
#include "klp/klp_convert.h"
#include "klp/module_sign.h"
#include "klp/symbol_cache.h"

namespace noreboot::klp {

struct PatchObject {
  std::string path;                    // the differ's output object (ET_REL) on disk, or a name
  std::optional<elf::Object> object;   // the same in memory (diff::DiffResult::output); wins over path
  PatchObjectInput input;              // target object, functions, what each undefined symbol was
};

struct ModuleRequest {
  std::string module_name;    // [a-z0-9_]+, at most 55 characters; also the sysfs patch name
  std::string description;    // MODULE_DESCRIPTION (optional)
  std::vector<PatchObject> objects;
  KernelFiles kernel;
  std::string workdir;        // scratch folder (created; kept for inspection)
  std::string output;         // where the finished .ko goes
  std::string cc = "gcc-12";  // the compiler the target kernel was built with
  // direct: replay Kbuild's recorded commands (kbuild_direct.h); kbuild: run make.
  enum class Link { direct, kbuild } link = Link::direct;
  std::optional<SigningKey> signing;  // sign the finished module (PKCS#7, module_sign.h)
};

struct StepTime {
  std::string step;
  double seconds = 0;
};

struct ModuleResult {
  std::string ko;
  std::vector<ConvertPlan> plans;
  std::vector<Callback> callbacks;     // declared by the patch objects, wired into klp_object
  size_t klp_relocations = 0;
  std::vector<StepTime> times;
};

// The stub's C source for a set of plans and the callbacks the patch objects declare
// (callbacks.h; exposed for tests).
std::string generate_stub_source(const std::string& description, const std::vector<ConvertPlan>& plans,
                                 const std::vector<Callback>& callbacks = {});

Result<ModuleResult> build_livepatch_module(const ModuleRequest& req);

// Errc::internal, naming them, when the module's .modinfo has a non-empty `depends=`: such a
// module would load only where those modules are loaded. build_livepatch_module's last check.
Status check_loads_everywhere(const std::string& ko_path);

}  // namespace noreboot::klp
