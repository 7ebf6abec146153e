// Result<T>: the one error mechanism of noreboot.
//
// Every fallible function returns Result<T> (or Status, which is Result<void>). An Error has a
// code, which callers branch on and `main` maps to an exit code, and a message written for a
// person: it names the file, section, symbol or field that was wrong and, where there is one,
// what to do about it. Nothing below `main` calls exit() or throws across a library boundary;
// a library that uses a throwing dependency (nlohmann-json, std::filesystem) catches at its
// entry point and returns an Error.
//
// Usage:
//   Result<Manifest> parse(std::string_view text);
//   NR_TRY(auto m, parse(text));          // returns the error from the enclosing function
//   NR_TRY_STATUS(write_file(p, bytes));  // the same for Status
//   return Error(Errc::invalid_input, "manifest.json: field 'sequence' must be a number");
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace noreboot {

enum class Errc {
  invalid_argument,   // the caller (usually a person on the command line) asked for something wrong
  invalid_input,      // a file or message is malformed, truncated or inconsistent
  not_found,          // a file, key, host, bundle or symbol does not exist
  io,                 // the operating system refused (read, write, rename, fsync, full disk)
  signature,          // a signature does not verify or comes from an untrusted key
  integrity,          // a hash or size does not match what was signed
  refused,            // a request that is well formed but not allowed (policy, rollback, wrong kernel)
  unsupported,        // a change or input noreboot cannot handle safely
  conflict,           // a concurrent or state conflict (already applied, lock held)
  unavailable,        // a dependency is down (database, server, kernel interface); retry later
  timeout,            // something did not finish in the time allowed
  internal,           // a bug in noreboot: an invariant did not hold
};

std::string_view errc_name(Errc code);

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prefixes context, e.g. err.context("bundle fix.nrp") -> "bundle fix.nrp: <message>".
  Error&& context(std::string_view what) && {
    message_ = std::string(what) + ": " + message_;
    return std::move(*this);
  }
  Error context(std::string_view what) const& {
    Error copy = *this;
    return std::move(copy).context(what);
  }

 private:
  Errc code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}            // NOLINT: implicit by design
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Error> &&
                                                    !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}     // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}            // NOLINT: implicit by design
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(!ok()); return *e_; }
  Error&& error() && { assert(!ok()); return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;
inline Status ok_status() { return {}; }

}  // namespace noreboot

#define NR_CONCAT_INNER(a, b) a##b
#define NR_CONCAT(a, b) NR_CONCAT_INNER(a, b)

// NR_TRY(decl, expr): evaluates expr (a Result<T>); on error returns the error from the
// enclosing function, otherwise declares `decl` bound to the value.
#define NR_TRY(decl, expr)                                              \
  auto NR_CONCAT(nr_try_, __LINE__) = (expr);                           \
  if (!NR_CONCAT(nr_try_, __LINE__).ok())                               \
    return std::move(NR_CONCAT(nr_try_, __LINE__)).error();             \
  decl = std::move(NR_CONCAT(nr_try_, __LINE__)).value()

// NR_TRY_STATUS(expr): evaluates expr (a Status or Result<T>) and returns its error, if any.
#define NR_TRY_STATUS(expr)                                             \
  do {                                                                  \
    auto nr_status_ = (expr);                                           \
    if (!nr_status_.ok()) return std::move(nr_status_).error();         \
  } while (0)
