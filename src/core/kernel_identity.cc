#include "core/kernel_identity.h"

#include <lzma.h>
#include <sys/utsname.h>

#include <cstring>

#include "core/elf_lite.h"
#include "core/file_io.h"
#include "core/numbers.h"

namespace noreboot {
namespace {

constexpr std::uint32_t kNtGnuBuildId = 3;
constexpr std::uint64_t kMaxProcFile = 64 * 1024;
constexpr std::uint64_t kMaxImage = 256ull << 20;         // a compressed or plain kernel image
constexpr std::uint64_t kMaxDecompressed = 1024ull << 20;  // its decompressed payload

std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A /proc file's text without its trailing newline.
Result<std::string> read_proc_line(const std::filesystem::path& path) {
  NR_TRY(auto text, read_text(path, kMaxProcFile));
  return trim_newline(std::move(text));
}

// The kernel prints linux_banner: "Linux version <release> (<by>@<host>) (<compiler>) <uts version>\n".
// 6.1 images hold two: a weak placeholder from init/version.o whose uts version is "# SMP ..."
// (no build number) and the real one from init/version-timestamp.o ("#1 SMP ..."), which is what
// /proc/version shows. Prefer a banner with "#<digit>"; otherwise take the first.
Result<std::string> find_banner(ByteView image, std::string_view source) {
  static constexpr std::string_view kPrefix = "Linux version ";
  std::string_view text = as_chars(image);
  std::string first, best;
  size_t pos = 0;
  while ((pos = text.find(kPrefix, pos)) != std::string_view::npos) {
    size_t end = pos;
    while (end < text.size() && end - pos < 1024 && text[end] != '\0') ++end;
    std::string_view cand = text.substr(pos, end - pos);
    pos += kPrefix.size();
    if (end >= text.size() || text[end] != '\0' || cand.size() < kPrefix.size() + 2 || cand.back() != '\n')
      continue;
    bool printable = true;
    for (char c : cand.substr(0, cand.size() - 1))
      printable = printable && static_cast<unsigned char>(c) >= 32 && c != 127;
    char first_release_char = cand[kPrefix.size()];
    if (!printable || first_release_char == '%' || first_release_char == ' ') continue;
    std::string banner(cand.substr(0, cand.size() - 1));
    if (first.empty()) first = banner;
    size_t hash = banner.rfind(") #");
    if (best.empty() && hash != std::string::npos && hash + 3 < banner.size() &&
        is_ascii_digit(banner[hash + 3]))
      best = banner;
  }
  if (!best.empty()) return best;
  if (!first.empty()) return first;
  return Error(Errc::not_found, std::string(source) + ": no 'Linux version ...' banner found in the kernel image");
}

std::string release_from_banner(const std::string& banner) {
  std::string rest = banner.substr(std::strlen("Linux version "));
  return rest.substr(0, rest.find(' '));
}

// The GNU build ID of an ELF kernel: PT_NOTE segments first (what the kernel exports as
// /sys/kernel/notes), then SHT_NOTE sections.
Result<std::string> elf_build_id(ByteView elf, const elf_lite::File& file, std::string_view source) {
  std::vector<ByteView> streams;
  for (const auto& seg : file.segments)
    if (seg.type == elf_lite::kPtNote) streams.push_back(elf.subspan(seg.offset, seg.filesz));
  for (const auto& sec : file.sections)
    if (sec.type == elf_lite::kShtNote) streams.push_back(elf.subspan(sec.offset, sec.size));
  for (auto stream : streams) {
    auto id = build_id_from_notes(stream);
    if (id) return id;
    if (id.error().code() != Errc::not_found) return std::move(id).error().context(source);
  }
  return Error(Errc::not_found, std::string(source) + ": the kernel image has no GNU build ID note");
}

Result<Bytes> xz_decompress(ByteView in, std::string_view source) {
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&strm, 512ull << 20, 0) != LZMA_OK)
    return Error(Errc::internal, "cannot initialise the xz decoder");
  Bytes out(std::min<std::uint64_t>(in.size() * 4 + 4096, kMaxDecompressed));
  strm.next_in = in.data();
  strm.avail_in = in.size();
  strm.next_out = out.data();
  strm.avail_out = out.size();
  lzma_ret ret = LZMA_OK;
  while (true) {
    ret = lzma_code(&strm, LZMA_FINISH);
    if (ret == LZMA_STREAM_END) break;
    if (ret != LZMA_OK && ret != LZMA_BUF_ERROR) break;
    if (strm.avail_out == 0) {
      size_t used = out.size();
      if (used >= kMaxDecompressed) { ret = LZMA_MEMLIMIT_ERROR; break; }
      out.resize(std::min<std::uint64_t>(used * 2, kMaxDecompressed));
      strm.next_out = out.data() + used;
      strm.avail_out = out.size() - used;
    } else if (ret == LZMA_BUF_ERROR) {
      break;  // no progress possible: input truncated
    }
  }
  size_t produced = out.size() - strm.avail_out;
  lzma_end(&strm);
  if (ret != LZMA_STREAM_END)
    return Error(Errc::invalid_input, std::string(source) + ": the xz payload does not decompress (error " +
                                          std::to_string(static_cast<int>(ret)) +
                                          "); the image is truncated or corrupt");
  out.resize(produced);
  return out;
}

template <typename T>
T load_le(ByteView b, size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

// An x86 bzImage: boot protocol header "HdrS" at 0x202, payload_offset/length at 0x248/0x24c,
// relative to the protected-mode code that starts after (setup_sects + 1) sectors.
Result<Bytes> bzimage_payload(ByteView image, std::string_view source) {
  std::string src(source);
  if (image.size() < 0x250 || std::memcmp(image.data() + 0x202, "HdrS", 4) != 0)
    return Error(Errc::invalid_input, src + ": neither an ELF vmlinux nor an x86 bzImage (no 'HdrS' boot header)");
  std::uint16_t protocol = load_le<std::uint16_t>(image, 0x206);
  if (protocol < 0x208)
    return Error(Errc::unsupported, src + ": boot protocol older than 2.08 has no payload fields");
  std::uint64_t setup_sects = image[0x1f1] == 0 ? 4 : image[0x1f1];
  std::uint64_t start = (setup_sects + 1) * 512 + load_le<std::uint32_t>(image, 0x248);
  std::uint64_t length = load_le<std::uint32_t>(image, 0x24c);
  if (start > image.size() || length > image.size() - start)
    return Error(Errc::invalid_input, src + ": the bzImage payload lies outside the file (truncated image?)");
  ByteView payload = image.subspan(start, length);
  static constexpr std::uint8_t kXz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  if (payload.size() >= 6 && std::memcmp(payload.data(), kXz, 6) == 0) return xz_decompress(payload, source);
  std::string format = "unknown";
  if (payload.size() >= 4) {
    if (payload[0] == 0x1f && payload[1] == 0x8b) format = "gzip";
    else if (std::memcmp(payload.data(), "\x28\xb5\x2f\xfd", 4) == 0) format = "zstd";
    else if (std::memcmp(payload.data(), "BZh", 3) == 0) format = "bzip2";
    else if (std::memcmp(payload.data(), "\x02\x21\x4c\x18", 4) == 0) format = "lz4";
    else if (payload[0] == 0x5d && payload[1] == 0) format = "lzma";
  }
  return Error(Errc::unsupported, src + ": the bzImage payload is " + format +
                                      "-compressed; only xz is supported (decompress it to a vmlinux first)");
}

}  // namespace

std::vector<std::string> identity_differences(const KernelIdentity& a, const KernelIdentity& b,
                                              std::string_view la, std::string_view lb) {
  std::vector<std::string> out;
  auto cmp = [&](std::string_view what, const std::string& x, const std::string& y) {
    if (x != y)
      out.push_back(std::string(what) + " differs: " + std::string(la) + " '" + x + "', " +
                    std::string(lb) + " '" + y + "'");
  };
  cmp("release", a.release, b.release);
  cmp("build ID", a.build_id, b.build_id);
  cmp("version", a.version, b.version);
  cmp("arch", a.arch, b.arch);
  return out;
}

Result<std::string> build_id_from_notes(ByteView stream) {
  NR_TRY(auto notes, elf_lite::parse_notes(stream));
  for (const auto& n : notes)
    if (n.type == kNtGnuBuildId && n.name == "GNU") {
      if (n.desc.empty()) return Error(Errc::invalid_input, "ELF notes: the GNU build ID note is empty");
      return to_hex(n.desc);
    }
  return Error(Errc::not_found, "ELF notes: no GNU build ID note (NT_GNU_BUILD_ID, owner \"GNU\")");
}

Result<KernelIdentity> read_running_kernel(const std::filesystem::path& root) {
  KernelIdentity id;
  NR_TRY(id.release, read_proc_line(root / "proc/sys/kernel/osrelease"));
  NR_TRY(id.version, read_proc_line(root / "proc/version"));
  if (id.release.empty() || id.version.empty())
    return Error(Errc::invalid_input, (root / "proc").string() + ": osrelease or version is empty");
  std::filesystem::path notes_path = root / "sys/kernel/notes";
  NR_TRY(auto notes, read_file(notes_path, 1 << 20));
  auto build_id = build_id_from_notes(notes);
  if (!build_id) return std::move(build_id).error().context(notes_path.string());
  id.build_id = *build_id;
  auto arch = read_proc_line(root / "proc/sys/kernel/arch");
  if (arch) {
    id.arch = *arch;
  } else if (root == "/" || root.empty()) {
    struct utsname u {};
    if (::uname(&u) == 0) id.arch = u.machine;
  }
  if (id.arch.empty())
    return Error(Errc::not_found, (root / "proc/sys/kernel/arch").string() + ": cannot tell the kernel's architecture");
  return id;
}

Result<KernelIdentity> kernel_identity_from_image(ByteView image, std::string_view source) {
  Bytes decompressed;
  ByteView elf = image;
  if (!elf_lite::is_elf(image)) {
    NR_TRY(decompressed, bzimage_payload(image, source));
    elf = decompressed;
    if (!elf_lite::is_elf(elf))
      return Error(Errc::invalid_input, std::string(source) + ": the decompressed bzImage payload is not an ELF file");
  }
  auto file = elf_lite::parse(elf);
  if (!file) return std::move(file).error().context(source);
  KernelIdentity id;
  NR_TRY(id.build_id, elf_build_id(elf, *file, source));
  NR_TRY(id.version, find_banner(elf, source));
  id.release = release_from_banner(id.version);
  id.arch = elf_lite::machine_name(file->machine);
  if (id.arch.empty())
    return Error(Errc::unsupported, std::string(source) + ": unknown ELF machine " + std::to_string(file->machine));
  return id;
}

Result<KernelIdentity> read_kernel_image(const std::filesystem::path& path) {
  NR_TRY(auto bytes, read_file(path, kMaxImage));
  return kernel_identity_from_image(bytes, path.string());
}

}  // namespace noreboot
