// The typed TOML reader (see toml_config.h). toml++ is used header-only here and nowhere else.
#include "core/toml_config.h"

#include <cmath>
#include <cstdio>

#include <toml++/toml.h>

#include "core/file_io.h"

namespace noreboot::toml_config {

struct Tree {
  toml::table root;
  std::string origin;
};

namespace {

const toml::table& as_table(const void* p) { return *static_cast<const toml::table*>(p); }
const toml::node* as_node(const void* p) { return static_cast<const toml::node*>(p); }

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

// ---- Table ----

const void* Table::node(std::string_view key) const { return as_table(table_).get(key); }

bool Table::has(std::string_view key) const { return node(key) != nullptr; }

std::string Table::name(std::string_view key) const { return prefix_ + std::string(key); }

Error Table::error(std::string_view key, std::string_view what) const {
  std::uint32_t line = line_;
  if (const toml::node* n = as_node(node(key)); n && n->source().begin.line) line = n->source().begin.line;
  std::string where = doc_->origin + (line ? ": line " + std::to_string(line) : std::string()) + ": ";
  return Error(Errc::invalid_input, where + "'" + name(key) + "' " + std::string(what));
}

Status Table::only_keys(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : as_table(table_)) {
    bool found = false;
    for (auto k : known) found = found || k == key.str();
    if (found) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    std::uint32_t line = key.source().begin.line ? key.source().begin.line : line_;
    return Error(Errc::invalid_input, doc_->origin + (line ? ": line " + std::to_string(line) : std::string()) +
                                          ": unknown key '" + name(key.str()) + "' (known: " + list + ")");
  }
  return ok_status();
}

Status Table::get(std::string_view key, std::string& out) const {
  const toml::node* n = as_node(node(key));
  if (!n) return ok_status();
  if (!n->is_string()) return error(key, "must be a string");
  out = *n->value<std::string>();
  return ok_status();
}

Status Table::get(std::string_view key, bool& out) const {
  const toml::node* n = as_node(node(key));
  if (!n) return ok_status();
  if (!n->is_boolean()) return error(key, "must be true or false");
  out = *n->value<bool>();
  return ok_status();
}

Status Table::get(std::string_view key, std::vector<std::string>& out) const {
  const toml::node* n = as_node(node(key));
  if (!n) return ok_status();
  const toml::array* a = n->as_array();
  if (!a) return error(key, "must be an array of strings, e.g. [\"a\", \"b\"]");
  std::vector<std::string> items;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node* e = a->get(i);
    if (!e->is_string())
      return error(key, "must be an array of strings: entry " + std::to_string(i) + " is not a string");
    items.push_back(*e->value<std::string>());
  }
  out = std::move(items);
  return ok_status();
}

Status Table::get_integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) const {
  const toml::node* n = as_node(node(key));
  if (!n) return ok_status();
  if (!n->is_integer()) return error(key, "must be a whole number");
  std::int64_t v = *n->value<std::int64_t>();
  if (v < min || v > max)
    return error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                          std::to_string(v));
  out = v;
  return ok_status();
}

Status Table::get_number(std::string_view key, double& out, double min, double max) const {
  const toml::node* n = as_node(node(key));
  if (!n) return ok_status();
  double v;
  if (n->is_integer()) v = static_cast<double>(*n->value<std::int64_t>());
  else if (n->is_floating_point()) v = *n->value<double>();
  else return error(key, "must be a number");
  if (std::isnan(v) || v < min || v > max) {
    std::string range = std::isinf(max) ? "must be at least " + number_text(min)
                                        : "must be between " + number_text(min) + " and " + number_text(max);
    return error(key, range + ", got " + number_text(v));
  }
  out = v;
  return ok_status();
}

Result<std::optional<Table>> Table::table(std::string_view key) const {
  const toml::node* n = as_node(node(key));
  if (!n) return std::optional<Table>();
  const toml::table* t = n->as_table();
  if (!t) return error(key, "must be a table: [" + name(key) + "]");
  return std::optional<Table>(Table(doc_, t, name(key) + ".", n->source().begin.line));
}

Result<std::vector<Table>> Table::tables(std::string_view key) const {
  std::vector<Table> out;
  const toml::node* n = as_node(node(key));
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) return error(key, "must be an array of tables: [[" + name(key) + "]]");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = a->get(i)->as_table();
    std::string entry = name(key) + "[" + std::to_string(i) + "]";
    if (!t) return error(key, "must be an array of tables: " + entry + " is not a table");
    out.push_back(Table(doc_, t, entry + ".", t->source().begin.line));
  }
  return out;
}

// ---- Document ----

Document::Document(std::unique_ptr<Tree> tree) : tree_(std::move(tree)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Table Document::root() const { return Table(tree_.get(), &tree_->root, "", 0); }
const std::string& Document::origin() const { return tree_->origin; }

Result<Document> Document::parse(std::string_view text, std::string origin) {
  auto tree = std::make_unique<Tree>();
  try {
    tree->root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Error(Errc::invalid_input, origin + ": line " + std::to_string(at.line) + ", column " +
                                          std::to_string(at.column) + ": " + std::string(e.description()));
  }
  tree->origin = std::move(origin);
  return Document(std::move(tree));
}

Result<Document> Document::parse_file(const std::filesystem::path& file) {
  auto text = read_text(file, 1 << 20);
  if (!text) return text.error();
  return parse(*text, file.string());
}

}  // namespace noreboot::toml_config
