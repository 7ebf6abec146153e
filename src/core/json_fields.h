// Strict reading of signed JSON documents (the bundle manifest, the fix record).
//
// A signed document must mean one thing to every reader, so the parse refuses what JSON
// parsers disagree about (a key twice in one object) and every field error names the field's
// full path ("fix.json: field 'kernels[2].bundle.sha256' must be 64 lowercase hex digits").
// Used by manifest.cc and fix_record.cc; not a general JSON layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace noreboot::json_fields {

using Json = nlohmann::json;

// Parses `text`; refuses invalid JSON and a key that appears twice in one object.
// `source` names the text in messages.
Result<Json> parse_strict(std::string_view text, const std::string& source);

// "YYYY-MM-DDTHH:MM:SS[.fff]Z"
bool valid_rfc3339_utc(std::string_view s);

// Reads typed fields out of a JSON object, naming the full field path in every error.
class FieldReader {
 public:
  FieldReader(const Json& obj, std::string source, std::string path)
      : obj_(obj), source_(std::move(source)), path_(std::move(path)) {}

  std::string name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  Error error(std::string_view key, std::string_view what) const {
    return Error(Errc::invalid_input, source_ + ": field '" + name(key) + "' " + std::string(what));
  }
  bool has(std::string_view key) const { return obj_.find(key) != obj_.end(); }
  Result<const Json*> get(std::string_view key) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) return error(key, "is missing");
    return &*it;
  }
  Result<std::string> string(std::string_view key, bool allow_empty = false) const {
    NR_TRY(const Json* v, get(key));
    if (!v->is_string()) return error(key, "must be a string");
    std::string s = v->get<std::string>();
    if (!allow_empty && s.empty()) return error(key, "must not be empty");
    return s;
  }
  Result<std::uint64_t> unsigned_number(std::string_view key) const {
    NR_TRY(const Json* v, get(key));
    if (!v->is_number_unsigned()) return error(key, "must be a non-negative integer");
    return v->get<std::uint64_t>();
  }
  Result<FieldReader> object(std::string_view key) const {
    NR_TRY(const Json* v, get(key));
    if (!v->is_object()) return error(key, "must be an object");
    return FieldReader(*v, source_, name(key));
  }
  Result<const Json*> array(std::string_view key) const {
    NR_TRY(const Json* v, get(key));
    if (!v->is_array()) return error(key, "must be an array");
    return v;
  }
  const std::string& source() const { return source_; }

 private:
  const Json& obj_;
  std::string source_;
  std::string path_;
};

}  // namespace noreboot::json_fields
