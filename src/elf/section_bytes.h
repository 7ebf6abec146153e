// Section contents that are either a view into the file they were read from or owned bytes.
//
// Problem: reading an object used to copy every section into its own vector: a zero-filled
// buffer for the whole file, the file read into it, then each section copied out again. A
// kernel object is mostly debug information (core.o: 2.6 MB, of which the differ looks at a
// few hundred kB), so most of that copying was for bytes nobody reads, and it was most of the
// differ's time on a large object.
//
// Approach: `SectionBytes` is what `Section::data` holds. A section read from a file is a view
// into the file's read-only mapping (MappedFile) and keeps that mapping alive through a shared
// pointer, so a view can never outlive its bytes: copying a section (or a whole Object) copies
// the view, not the bytes, and the mapping is unmapped when the last view of it goes. Reading
// goes through const accessors (data(), begin(), operator[], span()) that never copy. The
// first edit (assign, insert, resize, push_back, mutable_data(), assigning a vector or a
// braced list) copies the viewed bytes into an owned vector and edits that: copy on write, so
// the file is never written through and other views of it never change.
//
// Trade-off: the vector-like API is the subset the code base uses, not all of std::vector;
// there are no mutable iterators, so code that wants to write in place says so with
// mutable_data(). A view's bytes are shared with the file as it was mapped: the file must not
// be truncated while an object read from it is alive (see MappedFile).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace noreboot::elf {

class SectionBytes {
 public:
  using value_type = uint8_t;
  using const_iterator = const uint8_t*;
  using iterator = const uint8_t*;

  SectionBytes() = default;
  SectionBytes(std::initializer_list<uint8_t> bytes) : owned_(bytes) {}
  SectionBytes(std::vector<uint8_t> bytes) : owned_(std::move(bytes)) {}  // NOLINT: implicit, like the vector it replaced

  // A view of `bytes`, which `backing` keeps alive (the mapping or buffer they live in).
  static SectionBytes view(std::shared_ptr<const void> backing, std::span<const uint8_t> bytes) {
    SectionBytes b;
    b.backing_ = std::move(backing);
    b.view_ = bytes.data();
    b.view_size_ = bytes.size();
    return b;
  }

  SectionBytes& operator=(std::initializer_list<uint8_t> bytes) {
    drop_view();
    owned_.assign(bytes);
    return *this;
  }
  SectionBytes& operator=(std::vector<uint8_t> bytes) {
    drop_view();
    owned_ = std::move(bytes);
    return *this;
  }

  // Reading: never copies.
  bool is_view() const { return backing_ != nullptr; }
  size_t size() const { return is_view() ? view_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  const uint8_t* data() const { return is_view() ? view_ : owned_.data(); }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size(); }
  uint8_t operator[](size_t i) const { return data()[i]; }
  std::span<const uint8_t> span() const { return {data(), size()}; }
  operator std::span<const uint8_t>() const { return span(); }  // NOLINT: reads like the vector it replaced

  // Editing: the first edit of a view copies its bytes (copy on write).
  std::vector<uint8_t>& mutable_bytes() {
    if (is_view()) {
      std::vector<uint8_t> copy(view_, view_ + view_size_);
      drop_view();
      owned_ = std::move(copy);
    }
    return owned_;
  }
  uint8_t* mutable_data() { return mutable_bytes().data(); }

  template <typename It>
  void assign(It first, It last) {
    // The range may point into this view's own mapping: keep it alive until the copy is made.
    auto keep = backing_;
    std::vector<uint8_t> bytes(first, last);
    drop_view();
    owned_ = std::move(bytes);
  }
  // Inserts [first, last) before `pos` (an iterator of this buffer, e.g. end()).
  template <typename It>
  void insert(const uint8_t* pos, It first, It last) {
    auto keep = backing_;  // the range may point into this view's mapping
    auto at = static_cast<size_t>(pos - data());
    std::vector<uint8_t> bytes(first, last);
    auto& own = mutable_bytes();
    own.insert(own.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin(), bytes.end());
  }
  void resize(size_t n) { mutable_bytes().resize(n); }
  void push_back(uint8_t b) { mutable_bytes().push_back(b); }
  void reserve(size_t n) { mutable_bytes().reserve(n); }
  void clear() {
    drop_view();
    owned_.clear();
  }

  friend bool operator==(const SectionBytes& a, const SectionBytes& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const SectionBytes& a, const std::vector<uint8_t>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  void drop_view() {
    backing_.reset();
    view_ = nullptr;
    view_size_ = 0;
  }

  std::shared_ptr<const void> backing_;  // set while this is a view
  const uint8_t* view_ = nullptr;
  size_t view_size_ = 0;
  std::vector<uint8_t> owned_;  // the bytes when this is not a view
};

}  // namespace noreboot::elf
