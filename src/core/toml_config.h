// Reading a TOML configuration file into a struct: one typed reader for the server, the agent
// and the feed.
//
// Problem: each tool reads a small TOML file, and each had grown its own key check, its own
// typed getters and its own wording ("must be a number" here, "must be an integer" there,
// "unknown setting" in one tool and "unknown key" in the next), none of which said on which
// line the mistake was.
//
// Approach: toml++ parses (it is a well-kept Debian library, used header-only so no part needs
// libtomlplusplus.so at run time); this file is the thin typed layer over it. A Table is a view
// on one TOML table with the dotted path that leads to it, so every error names the file, the
// line and the full key ("agent.toml: line 7: 'timeouts.signal_seconds' must be at least 0,
// got -1"). A getter leaves its output alone when the key is absent, so a struct's defaults stay
// the defaults; unknown keys are refused by name with the list of known ones, because a typo in
// a config file is the most common configuration bug and silently ignoring it is the worst
// answer. What a value means (a URL, a time of day, a path relative to the file) stays in each
// tool's config.cc: this layer knows types and ranges only.
//
// Trade-off: toml++ stays out of this header (Table holds an opaque pointer), so the three
// tools compile no toml++ code of their own; the cost is that a caller cannot reach for a
// toml++ feature this reader does not offer, which is deliberate.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.h"

namespace noreboot::toml_config {

class Document;
struct Tree;  // the toml++ tree and the origin, on the heap so a Document can move

// One table of a parsed document (the root, a [section] or one [[array]] entry). Cheap to copy;
// valid while its Document lives.
class Table {
 public:
  // Refuses the first key not in `known`: "FILE: line N: unknown key 'where.key' (known: ...)".
  Status only_keys(std::initializer_list<std::string_view> known) const;
  bool has(std::string_view key) const;

  // Each getter leaves `out` unchanged when the key is absent, and refuses a value of the wrong
  // type naming the type it wants.
  Status get(std::string_view key, std::string& out) const;
  Status get(std::string_view key, bool& out) const;
  Status get(std::string_view key, std::vector<std::string>& out) const;  // an array of strings
  // A whole number within [min, max].
  Status get_integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) const;
  template <typename Int>
  Status get_integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) const {
    std::int64_t v = static_cast<std::int64_t>(out);
    NR_TRY_STATUS(get_integer(key, v, min, max));
    out = static_cast<Int>(v);
    return ok_status();
  }
  // An integer or a float within [min, max] (seconds: "5" and "0.5" both read).
  Status get_number(std::string_view key, double& out, double min,
                    double max = std::numeric_limits<double>::infinity()) const;
  // The same into a whole-number field: a fraction is dropped, and the range is also bounded by
  // what the field can hold.
  template <typename Int>
    requires std::is_integral_v<Int>
  Status get_number(std::string_view key, Int& out, double min,
                    double max = std::numeric_limits<double>::infinity()) const {
    double v = static_cast<double>(out);
    NR_TRY_STATUS(get_number(key, v, min, std::min(max, static_cast<double>(std::numeric_limits<Int>::max()))));
    out = static_cast<Int>(v);
    return ok_status();
  }

  // A sub-table [key]; nullopt when absent.
  Result<std::optional<Table>> table(std::string_view key) const;
  // An array of tables [[key]]; empty when absent.
  Result<std::vector<Table>> tables(std::string_view key) const;

  // An error about `key` of this table, with the file and the key's line when known:
  // error("start", "must be a time like \"02:30\"").
  Error error(std::string_view key, std::string_view what) const;
  // The full dotted name of `key` ("stages[0].percent"), as errors print it.
  std::string name(std::string_view key) const;

 private:
  friend class Document;
  Table(const Tree* doc, const void* table, std::string prefix, std::uint32_t line)
      : doc_(doc), table_(table), prefix_(std::move(prefix)), line_(line) {}
  const void* node(std::string_view key) const;  // const toml::node*, or null when absent
  const Tree* doc_;
  const void* table_;   // const toml::table*
  std::string prefix_;  // "" for the root, "timeouts." for [timeouts]
  std::uint32_t line_;  // where this table starts (0: unknown)
};

// A parsed configuration file. Move-only; owns the toml++ tree.
class Document {
 public:
  // Parses `text`; `origin` (usually the file name) starts every message. A syntax error reads
  // "ORIGIN: line L, column C: what toml++ found".
  static Result<Document> parse(std::string_view text, std::string origin);
  // Reads and parses a file (at most 1 MiB).
  static Result<Document> parse_file(const std::filesystem::path& file);

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  Table root() const;
  const std::string& origin() const;

 private:
  explicit Document(std::unique_ptr<Tree> tree);
  std::unique_ptr<Tree> tree_;
};

}  // namespace noreboot::toml_config
