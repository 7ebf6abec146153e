// Field reads of a JSON request body (see body_fields.h).
#include "server/body_fields.h"

namespace noreboot::server {
namespace {

Error wrong(const char* name, const std::string& rule) { return Error(Errc::invalid_input, std::string(name) + ": " + rule); }

}  // namespace

Result<BodyFields> BodyFields::parse(std::string_view body, std::string_view shape) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  std::string tail = shape.empty() ? "" : " " + std::string(shape);
  if (shape.empty() && j.is_discarded()) return Error(Errc::invalid_input, "body: not valid JSON");
  if (j.is_discarded() || !j.is_object()) return Error(Errc::invalid_input, "body: must be a JSON object" + tail);
  return BodyFields(std::move(j));
}

Result<const nlohmann::json*> BodyFields::find(const char* name, Need need, const std::string& rule) const {
  auto it = obj_.find(name);
  bool absent = it == obj_.end() || (need != Need::optional_not_null && it->is_null());
  if (absent && need == Need::required) return wrong(name, rule);
  if (absent) return static_cast<const nlohmann::json*>(nullptr);
  return &*it;
}

Result<std::optional<std::string>> BodyFields::string(const char* name, Need need, const std::string& rule,
                                                      std::size_t max_bytes,
                                                      const std::function<bool(std::string_view)>& valid) const {
  NR_TRY(auto v, find(name, need, rule));
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong(name, rule);
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes || (valid && !valid(s))) return wrong(name, rule);
  return std::optional<std::string>(s);
}

Result<std::optional<std::int64_t>> BodyFields::integer(const char* name, Need need, const std::string& rule,
                                                        std::int64_t min, std::int64_t max) const {
  NR_TRY(auto v, find(name, need, rule));
  if (!v) return std::optional<std::int64_t>();
  if (!v->is_number_integer()) return wrong(name, rule);
  // An unsigned above INT64_MAX is out of every range we accept.
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) return wrong(name, rule);
  std::int64_t n = v->get<std::int64_t>();
  if (n < min || n > max) return wrong(name, rule);
  return std::optional<std::int64_t>(n);
}

Result<std::optional<std::vector<std::string>>> BodyFields::strings(
    const char* name, Need need, const std::string& rule, std::size_t max_items, const std::string& item_rule,
    const std::function<bool(std::string_view)>& valid) const {
  NR_TRY(auto v, find(name, need, rule));
  if (!v) return std::optional<std::vector<std::string>>();
  if (!v->is_array() || v->size() > max_items) return wrong(name, rule);
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string() || (valid && !valid(e.get_ref<const std::string&>()))) return wrong(name, item_rule);
    out.push_back(e.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace noreboot::server
