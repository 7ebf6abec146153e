// Publisher keys: ed25519 key pairs, their text file formats, signatures and the TrustStore.
//
// Problem: an agent must accept a patch only from a publisher it trusts, and the server must
// not be able to forge one. Publishers keep a secret key; agents are configured with public
// keys.
// Approach: ed25519 (libsodium). Key files are small text files a person can recognise and
// copy (docs/bundle-format.md is the reference):
//
//   PREFIX.key (mode 0600)                      PREFIX.pub
//     noreboot-ed25519-secret-v1                  noreboot-ed25519-public-v1 <base64 32-byte key> <key id> [comment]
//     <base64 of the 32-byte seed>
//
// The key id is the first 16 hex digits of SHA-256(public key). It is recorded in the public
// file (checked on load, so a hand-edited line is caught) and in every signature, so a verifier
// picks the key directly and can say "signed by key X, which is not trusted". A secret key file
// that is readable by group or others is refused on load, as ssh does.
// Trade-off: the seed is stored unencrypted (no passphrase); protect it with file permissions or
// keep it on the build machine only.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot {

inline constexpr std::string_view kPublicKeyHeader = "noreboot-ed25519-public-v1";
inline constexpr std::string_view kSecretKeyHeader = "noreboot-ed25519-secret-v1";
inline constexpr std::string_view kSignatureHeader = "noreboot-ed25519-signature-v1";

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string id;       // 16 lowercase hex digits
  std::string comment;  // free text, may be empty
};

// Holds the secret seed; wiped on destruction. Move-only.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  // Derives the key pair from a 32-byte seed.
  static Result<SecretKey> from_seed(ByteView seed, std::string comment = {});
  static SecretKey generate(std::string comment = {});

  const PublicKey& public_key() const { return public_; }
  const std::string& id() const { return public_.id; }
  ByteView seed() const { return seed_; }
  ByteView libsodium_secret() const { return sk_; }

 private:
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 64> sk_{};  // libsodium's seed || public key
  PublicKey public_;
};

struct Signature {
  std::string key_id;
  std::array<std::uint8_t, 64> bytes{};
};

std::string key_id_for(ByteView public_key_bytes);

std::string format_public_key(const PublicKey& key);
std::string format_secret_key(const SecretKey& key);
// `source` names the file or field in error messages.
Result<PublicKey> parse_public_key(std::string_view text, std::string_view source);
Result<SecretKey> parse_secret_key(std::string_view text, std::string_view source);

Result<PublicKey> load_public_key(const std::filesystem::path& path);
// Refuses a file readable or writable by group or others (Errc::refused).
Result<SecretKey> load_secret_key(const std::filesystem::path& path);
// Writes PREFIX.key (0600) and PREFIX.pub (0644); refuses if either exists (Errc::conflict).
Status save_key_pair(const std::filesystem::path& prefix, const SecretKey& key);

Signature sign_message(const SecretKey& key, ByteView message);
bool signature_valid(const PublicKey& key, ByteView message, const Signature& signature);

// manifest.sig: one line "noreboot-ed25519-signature-v1 <key id> <base64 64-byte signature>\n".
std::string format_signature(const Signature& signature);
Result<Signature> parse_signature(std::string_view text, std::string_view source);

// The public keys an agent or verifier trusts, by key id.
class TrustStore {
 public:
  // Adds one key. Adding the same key twice is fine.
  void add(PublicKey key);
  // Loads a public key file, or every `*.pub` file of a folder (sorted by name).
  Status add_path(const std::filesystem::path& path);
  const PublicKey* find(std::string_view key_id) const;
  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }
  std::vector<std::string> ids() const;

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

}  // namespace noreboot
