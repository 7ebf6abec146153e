#include "agent/test_support.h"

#include <cstdlib>
#include <cstring>

namespace noreboot::agent::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/noreboot-agent-test-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string make_module_bytes(const std::string& name, bool livepatch, const std::string& extra) {
  std::string modinfo = "license=GPL";
  modinfo.push_back('\0');
  if (livepatch) { modinfo += "livepatch=Y"; modinfo.push_back('\0'); }
  modinfo += "name=" + name;
  modinfo.push_back('\0');
  modinfo += "vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions";
  modinfo.push_back('\0');
  std::string shstr = std::string("\0.modinfo\0.shstrtab\0.text\0", 26);
  std::string out(64, '\0');
  auto put = [&](size_t off, const void* v, size_t n) { std::memcpy(out.data() + off, v, n); };
  std::memcpy(out.data(), "\x7f" "ELF\x02\x01\x01", 7);
  uint16_t type = 1, machine = 62, ehsize = 64, shentsize = 64, shnum = 4, shstrndx = 2;
  uint32_t version = 1;
  put(16, &type, 2); put(18, &machine, 2); put(20, &version, 4);
  put(52, &ehsize, 2); put(58, &shentsize, 2); put(60, &shnum, 2); put(62, &shstrndx, 2);
  uint64_t modinfo_off = out.size(); out += modinfo;
  uint64_t shstr_off = out.size(); out += shstr;
  uint64_t text_off = out.size(); out += extra;
  while (out.size() % 8) out.push_back('\0');
  uint64_t shoff = out.size();
  put(40, &shoff, 8);
  auto section = [&](uint32_t nm, uint32_t ty, uint64_t off, uint64_t size) {
    std::string h(64, '\0');
    std::memcpy(h.data() + 0, &nm, 4);
    std::memcpy(h.data() + 4, &ty, 4);
    std::memcpy(h.data() + 0x18, &off, 8);
    std::memcpy(h.data() + 0x20, &size, 8);
    out += h;
  };
  section(0, 0, 0, 0);
  section(1, 1, modinfo_off, modinfo.size());
  section(10, 3, shstr_off, shstr.size());
  section(20, 1, text_off, extra.size());
  return out;
}

}  // namespace noreboot::agent::testing
