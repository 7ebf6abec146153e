// Writes the seed corpus of bundle_fuzz into a folder (run by the build, so no binary seeds are
// committed): a valid signed bundle and near-misses of each kind the reader refuses, each a
// small starting point for the fuzzer to mutate.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/bundle.h"
#include "core/file_io.h"
#include "core/fuzz_key.h"
#include "core/tar.h"

using namespace noreboot;

namespace {

void put(const std::filesystem::path& dir, const std::string& name, ByteView bytes) {
  if (!write_file(dir / name, bytes).ok()) {
    std::fprintf(stderr, "bundle_fuzz_seeds: cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

void retype(Bytes& tar, size_t header, char type) {
  tar[header + 156] = static_cast<std::uint8_t>(type);
  std::memset(tar.data() + header + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += tar[header + i];
  std::snprintf(reinterpret_cast<char*>(tar.data() + header + 148), 8, "%06o", sum);
  tar[header + 155] = ' ';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bundle_fuzz_seeds OUTDIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  SecretKey key = fuzzing::fuzz_key();
  Manifest m;
  m.name = "nr_seed";
  m.sequence = 1;
  m.kernel = {"6.1.0-56-amd64", "Linux version 6.1.0-56-amd64 (seed) #1 SMP", "0011223344", "x86_64"};
  m.module.vermagic = "6.1.0-56-amd64 SMP preempt mod_unload modversions ";
  m.fixes = {{"CVE-2024-0001", "seed"}};
  m.builder_version = "seed";
  m.created = "2026-01-01T00:00:00Z";
  std::string module = "\x7f" "ELF seed module";
  auto good = build_bundle(m, as_bytes(module), key);
  if (!good) {
    std::fprintf(stderr, "bundle_fuzz_seeds: %s\n", good.error().message().c_str());
    return 1;
  }
  // The valid seed must really be valid, or the fuzzer never reaches the checks behind it.
  TrustStore trust;
  trust.add(key.public_key());
  auto read = read_bundle_bytes(*good);
  if (!read || !verify_bundle(*read, trust)) {
    std::fprintf(stderr, "bundle_fuzz_seeds: the valid seed does not verify\n");
    return 1;
  }
  put(dir, "valid.nrp", *good);

  Bytes truncated(good->begin(), good->begin() + 700);
  put(dir, "truncated.nrp", truncated);
  Bytes symlink = *good;
  retype(symlink, 0, '2');
  put(dir, "symlink.nrp", symlink);
  Bytes tampered = *good;
  tampered[512 + 40] ^= 1;  // inside manifest.json
  put(dir, "tampered.nrp", tampered);

  std::string text = serialize_manifest(m);
  auto manifest_only = write_tar({{"manifest.json", as_bytes(text)}});
  put(dir, "manifest-only.nrp", *manifest_only);
  std::string dotdot = "x";
  auto escape = write_tar({{"a/b", as_bytes(dotdot)}});
  Bytes esc = *escape;
  std::memcpy(esc.data(), "../b", 4);
  retype(esc, 0, '0');
  put(dir, "dotdot.nrp", esc);
  // An ELF-note stream like /sys/kernel/notes (GNU build ID), for the notes parser.
  const std::uint8_t notes[] = {4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 0xde, 0xad, 0xbe, 0xef};
  put(dir, "notes.bin", ByteView(notes, sizeof notes));
  return 0;
}
