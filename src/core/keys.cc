#include "core/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/file_io.h"

namespace noreboot {
namespace {

constexpr std::uint64_t kMaxKeyFile = 4096;

// Splits on single spaces/tabs, dropping empty fields. The comment of a public key keeps its
// inner spaces, so the caller asks for at most `max_fields` and the last one takes the rest.
std::vector<std::string> split_fields(std::string_view line, size_t max_fields) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    if (out.size() + 1 == max_fields) {
      std::string rest(line.substr(i));
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.pop_back();
      out.push_back(rest);
      break;
    }
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

}  // namespace

SecretKey::~SecretKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(sk_.data(), sk_.size());
}

SecretKey::SecretKey(SecretKey&& other) noexcept
    : seed_(other.seed_), sk_(other.sk_), public_(std::move(other.public_)) {
  sodium_memzero(other.seed_.data(), other.seed_.size());
  sodium_memzero(other.sk_.data(), other.sk_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    sk_ = other.sk_;
    public_ = std::move(other.public_);
    sodium_memzero(other.seed_.data(), other.seed_.size());
    sodium_memzero(other.sk_.data(), other.sk_.size());
  }
  return *this;
}

Result<SecretKey> SecretKey::from_seed(ByteView seed, std::string comment) {
  ensure_sodium();
  if (seed.size() != crypto_sign_SEEDBYTES)
    return Error(Errc::invalid_input, "secret key seed must be 32 bytes, got " +
                                          std::to_string(seed.size()));
  SecretKey key;
  std::copy(seed.begin(), seed.end(), key.seed_.begin());
  crypto_sign_seed_keypair(key.public_.bytes.data(), key.sk_.data(), key.seed_.data());
  key.public_.id = key_id_for(key.public_.bytes);
  key.public_.comment = std::move(comment);
  return key;
}

SecretKey SecretKey::generate(std::string comment) {
  ensure_sodium();
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  auto key = from_seed(seed, std::move(comment));
  sodium_memzero(seed.data(), seed.size());
  return std::move(key).value();
}

std::string key_id_for(ByteView public_key_bytes) {
  return sha256_hex(public_key_bytes).substr(0, 16);
}

std::string format_public_key(const PublicKey& key) {
  std::string line = std::string(kPublicKeyHeader) + " " + base64_encode(key.bytes) + " " + key.id;
  if (!key.comment.empty()) line += " " + key.comment;
  return line + "\n";
}

std::string format_secret_key(const SecretKey& key) {
  return std::string(kSecretKeyHeader) + "\n" + base64_encode(key.seed()) + "\n";
}

Result<PublicKey> parse_public_key(std::string_view text, std::string_view source) {
  std::string src(source);
  auto lines = lines_of(text);
  // Allow comment lines (#) and blank lines around the one key line.
  std::vector<std::string_view> content;
  for (auto l : lines)
    if (!l.empty() && l.front() != '#') content.push_back(l);
  if (!content.empty() && content[0] == kSecretKeyHeader)
    return Error(Errc::invalid_input, src + ": this is a SECRET key file; give the .pub file");
  if (content.size() != 1)
    return Error(Errc::invalid_input,
                 src + ": a public key file must hold exactly one line '" +
                     std::string(kPublicKeyHeader) + " <base64 key> <key id> [comment]'");
  auto fields = split_fields(content[0], 4);
  if (fields.empty() || fields[0] != kPublicKeyHeader)
    return Error(Errc::invalid_input, src + ": not a noreboot public key (expected it to start with '" +
                                          std::string(kPublicKeyHeader) + "')");
  if (fields.size() < 3)
    return Error(Errc::invalid_input, src + ": public key line is missing the key or the key id");
  auto raw = base64_decode(fields[1]);
  if (!raw || raw->size() != 32)
    return Error(Errc::invalid_input, src + ": the key field must be base64 of 32 bytes");
  PublicKey key;
  std::copy(raw->begin(), raw->end(), key.bytes.begin());
  key.id = key_id_for(key.bytes);
  if (fields[2] != key.id)
    return Error(Errc::invalid_input, src + ": key id '" + fields[2] +
                                          "' does not match the key (expected " + key.id +
                                          "); the file was edited or corrupted");
  if (fields.size() == 4) key.comment = fields[3];
  return key;
}

Result<SecretKey> parse_secret_key(std::string_view text, std::string_view source) {
  std::string src(source);
  std::vector<std::string_view> content;
  for (auto l : lines_of(text))
    if (!l.empty() && l.front() != '#') content.push_back(l);
  if (content.empty() || content[0] != kSecretKeyHeader) {
    if (!content.empty() && content[0].substr(0, kPublicKeyHeader.size()) == kPublicKeyHeader)
      return Error(Errc::invalid_input, src + ": this is a PUBLIC key file; signing needs the .key file");
    return Error(Errc::invalid_input, src + ": not a noreboot secret key (expected first line '" +
                                          std::string(kSecretKeyHeader) + "')");
  }
  if (content.size() != 2)
    return Error(Errc::invalid_input, src + ": secret key file must have the header line and one base64 line");
  auto seed = base64_decode(content[1]);
  if (!seed || seed->size() != 32)
    return Error(Errc::invalid_input, src + ": the secret key line must be base64 of 32 bytes");
  auto key = SecretKey::from_seed(*seed);
  sodium_memzero(seed->data(), seed->size());
  return key;
}

Result<PublicKey> load_public_key(const std::filesystem::path& path) {
  NR_TRY(auto bytes, read_file(path, kMaxKeyFile));
  return parse_public_key(as_chars(bytes), path.string());
}

Result<SecretKey> load_secret_key(const std::filesystem::path& path) {
  // A public key given by mistake gets that diagnosis rather than a complaint about its mode.
  if (auto head = read_file(path, kMaxKeyFile);
      head && as_chars(*head).substr(0, kPublicKeyHeader.size()) == kPublicKeyHeader)
    return Error(Errc::invalid_input, path.string() + ": this is a PUBLIC key file; signing needs the .key file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Error(errno == ENOENT ? Errc::not_found : Errc::io,
                 path.string() + ": cannot read secret key: " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    return Error(Errc::refused, path.string() + ": secret key is accessible by group or others (mode 0" +
                                    mode.str() + "); run 'chmod 600 " + path.string() + "'");
  }
  NR_TRY(auto bytes, read_file(path, kMaxKeyFile));
  auto key = parse_secret_key(as_chars(bytes), path.string());
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Status save_key_pair(const std::filesystem::path& prefix, const SecretKey& key) {
  std::filesystem::path secret = prefix, pub = prefix;
  secret += ".key";
  pub += ".pub";
  std::error_code ec;
  if (std::filesystem::exists(pub, ec))
    return Error(Errc::conflict, pub.string() + ": already exists; refusing to overwrite a key");
  std::string secret_text = format_secret_key(key);
  Status s = write_file(secret, as_bytes(secret_text), {.mode = 0600, .no_replace = true});
  sodium_memzero(secret_text.data(), secret_text.size());
  NR_TRY_STATUS(s);
  std::string pub_text = format_public_key(key.public_key());
  Status p = write_file(pub, as_bytes(pub_text), {.mode = 0644, .no_replace = true});
  if (!p.ok()) {
    std::filesystem::remove(secret, ec);  // do not leave half a key pair
    return p;
  }
  return ok_status();
}

Signature sign_message(const SecretKey& key, ByteView message) {
  ensure_sodium();
  Signature sig;
  sig.key_id = key.id();
  crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(),
                       key.libsodium_secret().data());
  return sig;
}

bool signature_valid(const PublicKey& key, ByteView message, const Signature& signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature.bytes.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

std::string format_signature(const Signature& signature) {
  return std::string(kSignatureHeader) + " " + signature.key_id + " " +
         base64_encode(signature.bytes) + "\n";
}

Result<Signature> parse_signature(std::string_view text, std::string_view source) {
  std::string src(source);
  auto lines = lines_of(text);
  if (lines.size() != 1)
    return Error(Errc::invalid_input, src + ": must be exactly one line '" +
                                          std::string(kSignatureHeader) + " <key id> <base64>'");
  auto fields = split_fields(lines[0], 4);
  if (fields.size() != 3 || fields[0] != kSignatureHeader)
    return Error(Errc::invalid_input, src + ": not a noreboot signature (expected '" +
                                          std::string(kSignatureHeader) + " <key id> <base64>')");
  if (fields[1].size() != 16 || !is_lower_hex(fields[1]))
    return Error(Errc::invalid_input, src + ": key id must be 16 lowercase hex digits");
  auto raw = base64_decode(fields[2]);
  if (!raw || raw->size() != 64)
    return Error(Errc::invalid_input, src + ": signature must be base64 of 64 bytes");
  Signature sig;
  sig.key_id = fields[1];
  std::copy(raw->begin(), raw->end(), sig.bytes.begin());
  return sig;
}

void TrustStore::add(PublicKey key) {
  std::string id = key.id;
  keys_.insert_or_assign(std::move(id), std::move(key));
}

Status TrustStore::add_path(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(path, ec))
      if (e.path().extension() == ".pub") files.push_back(e.path());
    if (ec) return Error(Errc::io, path.string() + ": cannot list trusted keys: " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      NR_TRY(auto key, load_public_key(f));
      add(std::move(key));
    }
    return ok_status();
  }
  NR_TRY(auto key, load_public_key(path));
  add(std::move(key));
  return ok_status();
}

const PublicKey* TrustStore::find(std::string_view key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> TrustStore::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, key] : keys_) out.push_back(id);
  return out;
}

}  // namespace noreboot
