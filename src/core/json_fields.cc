#include "core/json_fields.h"

#include <set>
#include <vector>

#include "core/numbers.h"

namespace noreboot::json_fields {

Result<Json> parse_strict(std::string_view text, const std::string& src) {
  // Duplicate keys are refused: JSON parsers disagree on which one wins, and a signed document
  // must mean one thing to every reader.
  std::vector<std::set<std::string>> keys_seen;
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) keys_seen.emplace_back();
    else if (event == Json::parse_event_t::object_end && !keys_seen.empty()) keys_seen.pop_back();
    else if (event == Json::parse_event_t::key && !keys_seen.empty() &&
             !keys_seen.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& e) {
    return Error(Errc::invalid_input, src + ": not valid JSON: " + e.what());
  }
  if (!duplicate.empty())
    return Error(Errc::invalid_input, src + ": key '" + duplicate + "' appears twice in one object");
  return root;
}

bool valid_rfc3339_utc(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ, optionally with fractional seconds.
  if (s.size() < 20 || s.back() != 'Z') return false;
  const char* pat = "dddd-dd-ddTdd:dd:dd";
  for (size_t i = 0; i < 19; ++i) {
    if (pat[i] == 'd' ? !is_ascii_digit(s[i]) : s[i] != pat[i]) return false;
  }
  std::string_view rest = s.substr(19, s.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2) return false;
    for (char c : rest.substr(1))
      if (c < '0' || c > '9') return false;
  }
  int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
  int hour = (s[11] - '0') * 10 + (s[12] - '0'), minute = (s[14] - '0') * 10 + (s[15] - '0');
  int second = (s[17] - '0') * 10 + (s[18] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
         second <= 60;
}

}  // namespace noreboot::json_fields
