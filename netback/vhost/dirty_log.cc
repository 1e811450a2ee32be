// SPDX-License-Identifier: MIT
// DirtyLog: mapping the SET_LOG_BASE fd and marking written guest pages.
#include "netback/vhost/dirty_log.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

namespace uvs::netback {

Status DirtyLog::map(int fd, uint64_t size, uint64_t offset) {
  if (size == 0 || size > kMaxLogSize) {
    return Status::fail(NetbackError::kMemory,
                        "dirty log size " + std::to_string(size) + " outside 1.." +
                            std::to_string(kMaxLogSize));
  }
  if (offset > kMaxLogSize) {
    return Status::fail(NetbackError::kMemory,
                        "dirty log offset " + std::to_string(offset) + " too large");
  }
  const uint64_t need = offset + size;  // both bounded: no wrap
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::fail(NetbackError::kMemory, "fstat of the dirty log fd", errno);
  }
  // A shared mapping past the end of its file raises SIGBUS when touched: one frontend's short
  // fd must break its port, never the process.
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < need) {
    return Status::fail(NetbackError::kMemory,
                        "dirty log needs " + std::to_string(need) + " bytes of its fd (offset " +
                            std::to_string(offset) + " + size " + std::to_string(size) +
                            ") but the file has only " + std::to_string(st.st_size));
  }
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !(seals & F_SEAL_SEAL)) {
    (void)::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);  // best effort, as for guest memory
  }
  // offset need not be page aligned: map from the file's start and skip it.
  void* p = ::mmap(nullptr, need, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    return Status::fail(NetbackError::kMemory, "mmap of the dirty log", errno);
  }
  unmap();
  map_base_ = p;
  map_len_ = need;
  base_ = static_cast<uint8_t*>(p) + offset;
  size_ = size;
  active_ = enabled_;
  return Status::success();
}

void DirtyLog::unmap() noexcept {
  if (map_base_) ::munmap(map_base_, map_len_);
  map_base_ = nullptr;
  map_len_ = 0;
  base_ = nullptr;
  size_ = 0;
  active_ = false;
}

void DirtyLog::set_enabled(bool on) noexcept {
  enabled_ = on;
  active_ = on && base_ != nullptr;
}

bool DirtyLogBatch::gather(uint64_t gpa, uint64_t len) noexcept {
  const uint64_t last = gpa + (len - 1);
  if (last < gpa) {
    overflowed_ = true;
    return false;
  }
  const uint64_t first_page = gpa / kLogPageSize;
  const uint64_t last_page = last / kLogPageSize;
  // vhost-user.rst "Migration": the last byte logged must fall within the log.
  if (last_page / 8 >= log_->size()) {
    overflowed_ = true;
    return false;
  }
  for (uint64_t p = first_page; p <= last_page; ++p) {
    bool seen = false;
    const uint32_t from = npending_ > kRecent ? npending_ - kRecent : 0;
    for (uint32_t i = from; i < npending_; ++i) seen |= pending_[i] == p;
    if (seen) continue;
    if (npending_ == kMaxPending) flush_pending();
    pending_[npending_++] = p;
  }
  return true;
}

void DirtyLog::set_page(uint64_t p) noexcept {
  // vhost-user.rst "Migration": "Use atomic operations, as the log may be concurrently
  // manipulated" (QEMU clears whole words with an atomic exchange while syncing; lanes on other
  // threads set bits in the same bytes). Release: the frontend that sees the bit and copies the
  // page must see every store gathered before it.
  if (base_ == nullptr || p / 8 >= size_) return;
  __atomic_fetch_or(base_ + p / 8, static_cast<uint8_t>(1u << (p % 8)), __ATOMIC_RELEASE);
}

void DirtyLogBatch::flush_pending() noexcept {
  // Pages are gathered only while the log is active and checked against its size; set_page
  // checks again, for a log replaced since (which only happens while no ring is served).
  for (uint32_t i = 0; i < npending_; ++i) log_->set_page(pending_[i]);
  npending_ = 0;
}

}  // namespace uvs::netback
