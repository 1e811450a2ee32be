// SPDX-License-Identifier: MIT
// PortBackend: one port type's own settings, held without naming the type, so that adding a type
// touches no shared header. Copyable and comparable like the settings struct it holds.
#pragma once

#include <cassert>
#include <memory>
#include <type_traits>
#include <utility>

namespace uvs::config {

/// The settings struct of one port type (TapPortSpec, NatPortSpec ...), or nothing. T must be
/// copyable and equality-comparable; PortBackend copies and compares it through T.
class PortBackend {
 public:
  PortBackend() = default;
  /// Holds `value`, a port type's settings struct.
  template <typename T>
    requires(!std::is_same_v<std::decay_t<T>, PortBackend>)
  PortBackend(T value)  // NOLINT(google-explicit-constructor): a spec struct is a backend
      : held_(std::make_unique<Held<T>>(std::move(value))) {}

  PortBackend(const PortBackend& other) : held_(other.held_ ? other.held_->clone() : nullptr) {}
  PortBackend(PortBackend&&) noexcept = default;
  PortBackend& operator=(const PortBackend& other) {
    if (this != &other) held_ = other.held_ ? other.held_->clone() : nullptr;
    return *this;
  }
  PortBackend& operator=(PortBackend&&) noexcept = default;
  ~PortBackend() = default;

  /// Equal when both hold the same struct type with equal values, or both hold nothing.
  bool operator==(const PortBackend& other) const {
    if (!held_ || !other.held_) return !held_ && !other.held_;
    return held_->equals(*other.held_);
  }

  /// The held settings if they are a T; null otherwise.
  template <typename T>
  const T* get_if() const {
    auto* h = dynamic_cast<const Held<T>*>(held_.get());
    return h ? &h->value : nullptr;
  }
  template <typename T>
  T* get_if() {
    auto* h = dynamic_cast<Held<T>*>(held_.get());
    return h ? &h->value : nullptr;
  }

  /// The held settings, which must be a T: only a type's own code (its writer, its factory)
  /// calls this, on a backend its reader made.
  template <typename T>
  const T& get() const {
    const T* p = get_if<T>();
    assert(p && "PortBackend holds another type's settings");
    return *p;
  }
  template <typename T>
  T& get() {
    T* p = get_if<T>();
    assert(p && "PortBackend holds another type's settings");
    return *p;
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual std::unique_ptr<Base> clone() const = 0;
    virtual bool equals(const Base& other) const = 0;
  };
  template <typename T>
  struct Held final : Base {
    explicit Held(T v) : value(std::move(v)) {}
    std::unique_ptr<Base> clone() const override { return std::make_unique<Held>(value); }
    bool equals(const Base& other) const override {
      auto* o = dynamic_cast<const Held*>(&other);
      return o && o->value == value;
    }
    T value;
  };

  std::unique_ptr<Base> held_;
};

}  // namespace uvs::config
