// SPDX-License-Identifier: MIT
// The port and frame sink the ring fuzz targets drive the data path with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "port/port.h"

namespace uvs::fuzz {

// Touches every byte of every frame so ASan checks the iovecs the TX path lends.
struct TouchSink final : port::FrameSink {
  uint64_t sum = 0;
  void receive_burst(port::Port&, std::span<const port::Frame> frames) noexcept override {
    for (const auto& f : frames) {
      uint64_t total = 0;
      for (uint32_t i = 0; i < f.iovcnt; ++i) {
        const auto* p = static_cast<const uint8_t*>(f.iov[i].iov_base);
        for (size_t k = 0; k < f.iov[i].iov_len; ++k) sum += p[k];
        total += f.iov[i].iov_len;
      }
      if (total != f.len) __builtin_trap();
    }
  }
};

struct NullPort final : port::Port {
  size_t send_burst(std::span<const port::Frame>) noexcept override { return 0; }
  void set_sink(port::FrameSink*) noexcept override {}
  std::string_view name() const noexcept override { return "fuzz"; }
  port::PortState state() const noexcept override { return port::PortState::kUp; }
};

}  // namespace uvs::fuzz
