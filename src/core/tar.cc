#include "core/tar.h"

#include <algorithm>
#include <cstring>

namespace noreboot {
namespace {

// ustar header layout (POSIX.1-1988), offsets and sizes (a namespace of their own: a unity
// batch puts this file beside others, cmake/NorebootUnity.cmake).
namespace ustar {
constexpr size_t kName = 0, kNameLen = 100;
constexpr size_t kMode = 100, kUid = 108, kGid = 116;
constexpr size_t kSize = 124, kSizeLen = 12;
constexpr size_t kMtime = 136;
constexpr size_t kChksum = 148, kChksumLen = 8;
constexpr size_t kTypeflag = 156;
constexpr size_t kMagic = 257;
constexpr size_t kVersion = 263;
constexpr size_t kUname = 265, kGname = 297;
constexpr size_t kPrefix = 345, kPrefixLen = 155;
}  // namespace ustar

std::string field_string(ByteView h, size_t off, size_t len) {
  auto p = reinterpret_cast<const char*>(h.data() + off);
  return std::string(p, strnlen(p, len));
}

// An octal number field: optional leading spaces, digits, then NUL/space terminators.
bool parse_octal(ByteView h, size_t off, size_t len, std::uint64_t& out) {
  size_t i = off, end = off + len;
  while (i < end && h[i] == ' ') ++i;
  std::uint64_t v = 0;
  size_t digits = 0;
  for (; i < end && h[i] >= '0' && h[i] <= '7'; ++i, ++digits) {
    if (v > (UINT64_MAX >> 3)) return false;
    v = v << 3 | static_cast<std::uint64_t>(h[i] - '0');
  }
  for (; i < end; ++i)
    if (h[i] != ' ' && h[i] != 0) return false;
  if (digits == 0) return false;
  out = v;
  return true;
}

bool all_zero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

std::string type_name(char t) {
  switch (t) {
    case '1': return "a hard link";
    case '2': return "a symbolic link";
    case '3': return "a character device";
    case '4': return "a block device";
    case '5': return "a directory";
    case '6': return "a FIFO";
    case '7': return "a contiguous file";
    case 'x': return "a pax extended header";
    case 'g': return "a pax global header";
    case 'L': case 'K': return "a GNU long-name header";
    default: return std::string("of unknown type '") + (t >= 32 && t < 127 ? std::string(1, t) : "?") + "'";
  }
}

void put_octal(Bytes& h, size_t off, size_t len, std::uint64_t v) {
  // len-1 digits, zero padded, then NUL.
  for (size_t i = len - 1; i-- > 0;) {
    h[off + i] = static_cast<std::uint8_t>('0' + (v & 7));
    v >>= 3;
  }
  h[off + len - 1] = 0;
}

}  // namespace

std::string tar_path_problem(std::string_view name) {
  if (name.empty()) return "has an empty path";
  if (name.front() == '/') return "has an absolute path";
  for (char c : name)
    if (static_cast<unsigned char>(c) < 32 || c == 127) return "has a control character in its path";
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part == "..") return "has a '..' component in its path";
    if (part == ".") return "has a '.' component in its path";
    if (part.empty() && slash != name.size()) return "has an empty component in its path";
    start = slash + 1;
  }
  return "";
}

Result<std::vector<TarMember>> read_tar(ByteView archive, TarReadLimits limits) {
  std::vector<TarMember> members;
  size_t pos = 0;
  auto where = [&](size_t off) { return "tar header at offset " + std::to_string(off); };
  while (true) {
    if (archive.size() - pos < kTarBlock) {
      if (pos == 0 && archive.empty())
        return Error(Errc::invalid_input, "archive is empty (0 bytes): not a bundle");
      return Error(Errc::invalid_input,
                   "archive is truncated: " + where(pos) +
                       " is cut short and no end-of-archive marker was found; the file was "
                       "probably not copied completely");
    }
    ByteView h = archive.subspan(pos, kTarBlock);
    if (all_zero(h)) {
      // End of archive. Whatever follows (the second zero block, record padding) must be zeros,
      // so nothing can hide after the marker.
      if (!all_zero(archive.subspan(pos)))
        return Error(Errc::invalid_input, "archive has data after its end-of-archive marker at offset " +
                                              std::to_string(pos));
      break;
    }
    // Magic first: without it the header is not ustar and the other fields mean nothing.
    if (std::memcmp(h.data() + ustar::kMagic, "ustar", 5) != 0)
      return Error(Errc::invalid_input, where(pos) + " is not a ustar header (bad magic); "
                                        "the file is not a tar archive or is corrupt");
    std::uint64_t stored_sum = 0;
    if (!parse_octal(h, ustar::kChksum, ustar::kChksumLen, stored_sum))
      return Error(Errc::invalid_input, where(pos) + " has an unreadable checksum field");
    std::uint64_t sum = 0;
    for (size_t i = 0; i < kTarBlock; ++i)
      sum += (i >= ustar::kChksum && i < ustar::kChksum + ustar::kChksumLen) ? ' ' : h[i];
    std::string name = field_string(h, ustar::kName, ustar::kNameLen);
    std::string prefix = field_string(h, ustar::kPrefix, ustar::kPrefixLen);
    if (!prefix.empty()) name = prefix + "/" + name;
    std::string member = "member '" + name + "'";
    if (sum != stored_sum)
      return Error(Errc::invalid_input, member + " (" + where(pos) +
                                            "): header checksum mismatch (stored " +
                                            std::to_string(stored_sum) + ", computed " +
                                            std::to_string(sum) + "); the archive is corrupt");
    char type = static_cast<char>(h[ustar::kTypeflag]);
    if (type != '0' && type != '\0')
      return Error(Errc::invalid_input, member + " is " + type_name(type) +
                                            "; a bundle may only contain regular files");
    if (auto problem = tar_path_problem(name); !problem.empty())
      return Error(Errc::invalid_input, member + " " + problem +
                                            "; bundle members must be plain relative names");
    std::uint64_t size = 0;
    if (!parse_octal(h, ustar::kSize, ustar::kSizeLen, size))
      return Error(Errc::invalid_input, member + " has an unreadable size field");
    pos += kTarBlock;
    if (size > archive.size() - pos)
      return Error(Errc::invalid_input,
                   member + " is truncated: its header says " + std::to_string(size) +
                       " bytes but only " + std::to_string(archive.size() - pos) +
                       " remain in the archive");
    if (members.size() >= limits.max_members)
      return Error(Errc::invalid_input, "archive has more than " +
                                            std::to_string(limits.max_members) + " members");
    members.push_back({name, archive.subspan(pos, static_cast<size_t>(size))});
    size_t padded = static_cast<size_t>((size + kTarBlock - 1) / kTarBlock * kTarBlock);
    if (padded > archive.size() - pos)
      return Error(Errc::invalid_input, member + " is truncated: its padding is cut short");
    pos += padded;
  }
  return members;
}

Result<Bytes> write_tar(const std::vector<TarFile>& files) {
  Bytes out;
  for (const auto& f : files) {
    if (f.name.size() > ustar::kNameLen)
      return Error(Errc::invalid_argument, "tar member name '" + f.name + "' is longer than 100 bytes");
    if (auto problem = tar_path_problem(f.name); !problem.empty())
      return Error(Errc::invalid_argument, "tar member '" + f.name + "' " + problem);
    Bytes h(kTarBlock, 0);
    std::memcpy(h.data() + ustar::kName, f.name.data(), f.name.size());
    put_octal(h, ustar::kMode, 8, 0644);
    put_octal(h, ustar::kUid, 8, 0);
    put_octal(h, ustar::kGid, 8, 0);
    put_octal(h, ustar::kSize, ustar::kSizeLen, f.data.size());
    put_octal(h, ustar::kMtime, 12, 0);
    h[ustar::kTypeflag] = '0';
    std::memcpy(h.data() + ustar::kMagic, "ustar", 6);  // "ustar\0"
    std::memcpy(h.data() + ustar::kVersion, "00", 2);
    std::memcpy(h.data() + ustar::kUname, "root", 4);
    std::memcpy(h.data() + ustar::kGname, "root", 4);
    std::memset(h.data() + ustar::kChksum, ' ', ustar::kChksumLen);
    std::uint64_t sum = 0;
    for (auto c : h) sum += c;
    put_octal(h, ustar::kChksum, 7, sum);  // 6 digits, NUL, then the space already there
    h[ustar::kChksum + 7] = ' ';
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), f.data.begin(), f.data.end());
    out.resize((out.size() + kTarBlock - 1) / kTarBlock * kTarBlock, 0);
  }
  out.resize(out.size() + 2 * kTarBlock, 0);  // end-of-archive: two zero blocks
  return out;
}

}  // namespace noreboot
