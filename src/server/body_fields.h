// Reading the fields of a JSON request body, with one clear 400 per wrong field.
//
// Problem: each admin handler read its body through chains of contains / is_string / get<>,
// each chain with its own idea of what a missing, null or ill-typed field means, and the
// message naming the field written by hand every time. Approach: BodyFields wraps the parsed
// object; each read names the field, says whether it is required, what type and bounds it
// needs, and the rule the caller states in words ("must be a Unix time in seconds"). A wrong
// field gives Errc::invalid_input with "FIELD: RULE" (a 400 through fail_from), so every
// message names its field. Trade-off: a few lines of options per field instead of a schema
// language; the API's bodies are small and few. Not core's json_fields::FieldReader: that one
// reads signed documents strictly (a key twice is refused, every field is required); this one
// reads request bodies, where null may mean absent and each field keeps its documented message.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace noreboot::server {

class BodyFields {
 public:
  // The body as a JSON object; an error names `body` and `shape` (what the object should be)
  // when it is not valid JSON or not an object.
  static Result<BodyFields> parse(std::string_view body, std::string_view shape = "");

  // How an absent field and a JSON null are taken.
  enum class Need { optional, optional_not_null, required };

  // A string; `rule` is the message after "FIELD: " when the field is wrong (wrong type,
  // longer than max_bytes, or refused by `valid`). Absent (and null where allowed): nullopt.
  Result<std::optional<std::string>> string(const char* name, Need need, const std::string& rule,
                                            std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
                                            const std::function<bool(std::string_view)>& valid = {}) const;
  // An integer in [min, max].
  Result<std::optional<std::int64_t>> integer(const char* name, Need need, const std::string& rule,
                                              std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                              std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  // An array of at most max_items strings; `rule` for a non-array or one too long, `item_rule`
  // for an element that is not a string or refused by `valid`.
  Result<std::optional<std::vector<std::string>>> strings(const char* name, Need need, const std::string& rule,
                                                          std::size_t max_items, const std::string& item_rule,
                                                          const std::function<bool(std::string_view)>& valid = {}) const;

  const nlohmann::json& object() const { return obj_; }

 private:
  explicit BodyFields(nlohmann::json obj) : obj_(std::move(obj)) {}
  // The field's value, nullptr when absent (or null and `need` lets null mean absent); an
  // error when a required field is missing.
  Result<const nlohmann::json*> find(const char* name, Need need, const std::string& rule) const;

  nlohmann::json obj_;
};

}  // namespace noreboot::server
