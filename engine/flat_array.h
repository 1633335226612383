// FlatArray: the growable flat array behind the grid index's records and
// cells, in page memory (port/page_memory.h) that can also borrow the bytes
// of a mapped file. Internal to the ShapeIndex files.
//
// Thread-safety: a plain value; const access is safe to share, anything that
// grows or writes it needs exclusive access.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "port/page_memory.h"

namespace grid::geo::internal {

// A growable array of trivially copyable T in anonymous mmap memory: grows
// with mremap (no copy, no transient double footprint), asks for transparent
// huge pages when large (fewer TLB misses on random lookups over gigabytes),
// and is never zero-filled by ResizeUninitialized (Load reads into it).
template <typename T>
class FlatArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  FlatArray() = default;
  ~FlatArray() { Release(); }
  FlatArray(FlatArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        bytes_(std::exchange(o.bytes_, 0)),
        borrowed_(std::exchange(o.borrowed_, false)) {}
  FlatArray& operator=(FlatArray&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
      borrowed_ = std::exchange(o.borrowed_, false);
    }
    return *this;
  }
  // Views n elements owned by someone else (a mapped file that outlives
  // this array, with kSlack readable bytes past them). Read-only from then
  // on: nothing may grow or write it.
  void Borrow(const T* data, size_t n) {
    Release();
    data_ = const_cast<T*>(data);
    size_ = n;
    borrowed_ = true;
  }
  FlatArray(const FlatArray&) = delete;
  FlatArray& operator=(const FlatArray&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  void push_back(const T& v) {
    if ((size_ + 1) * sizeof(T) + kSlack > bytes_) Grow(size_ + 1);
    data_[size_++] = v;
  }
  void append(const T* v, size_t n) {
    if ((size_ + n) * sizeof(T) + kSlack > bytes_) Grow(size_ + n);
    if (n) std::memcpy(data_ + size_, v, n * sizeof(T));
    size_ += n;
  }
  void ResizeUninitialized(size_t n) {
    if (n * sizeof(T) + kSlack > bytes_) Grow(n);
    size_ = n;
  }
  void resize(size_t n) {
    const size_t old = size_;
    ResizeUninitialized(n);
    if (n > old) std::memset(static_cast<void*>(data_ + old), 0, (n - old) * sizeof(T));
  }
  void clear() { Release(); }

 private:
  // Bytes readable past the end (24-bit coordinates are loaded 4 bytes wide).
  static constexpr size_t kSlack = 8;
  static constexpr size_t kPage = 4096, kHuge = size_t{2} << 20;

  void Grow(size_t min_elems) {
    size_t want = std::max(min_elems * sizeof(T) + kSlack, bytes_ + bytes_ / 2);
    const size_t unit = want >= 2 * kHuge ? kHuge : kPage;
    want = (want + unit - 1) / unit * unit;
    void* p = data_ ? port::ReallocatePages(data_, bytes_, want) : port::AllocatePages(want);
    if (unit == kHuge) port::AdviseHugePages(p, want);
    data_ = static_cast<T*>(p);
    bytes_ = want;
  }
  void Release() {
    if (data_ && !borrowed_) port::FreePages(data_, bytes_);
    data_ = nullptr;
    size_ = bytes_ = 0;
    borrowed_ = false;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
  bool borrowed_ = false;
};

}  // namespace grid::geo::internal
