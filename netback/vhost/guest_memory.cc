// SPDX-License-Identifier: MIT
// GuestMemory: region mapping, validation and bounds-checked address translation.
#include "netback/vhost/guest_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace uvs::netback {

namespace {

// a + len - 1 does not wrap (the range's last byte is addressable).
bool range_ok(uint64_t a, uint64_t len) noexcept { return len != 0 && a + (len - 1) >= a; }

std::string to_hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Status GuestMemory::validate_new(const vu::MemoryRegion& r) const {
  if (r.memory_size == 0) return Status::fail(NetbackError::kMemory, "empty memory region");
  if (!range_ok(r.guest_phys_addr, r.memory_size) || !range_ok(r.userspace_addr, r.memory_size) ||
      !range_ok(r.mmap_offset, r.memory_size) ||
      r.memory_size > static_cast<uint64_t>(SIZE_MAX) - r.mmap_offset) {
    return Status::fail(NetbackError::kMemory, "memory region wraps the address space");
  }
  if (count_ == kMaxMemSlots) {
    return Status::fail(NetbackError::kMemory, "too many memory regions");
  }
  for (size_t i = 0; i < count_; ++i) {
    const auto& d = regions_[i].desc;
    // Overlaps would make translation ambiguous (and the "last byte" arithmetic below assumes
    // none of the ranges wrap, checked above).
    if (d.guest_phys_addr + (d.memory_size - 1) >= r.guest_phys_addr &&
        r.guest_phys_addr + (r.memory_size - 1) >= d.guest_phys_addr) {
      return Status::fail(NetbackError::kMemory, "memory region overlaps another (guest address)");
    }
    if (d.userspace_addr + (d.memory_size - 1) >= r.userspace_addr &&
        r.userspace_addr + (r.memory_size - 1) >= d.userspace_addr) {
      return Status::fail(NetbackError::kMemory, "memory region overlaps another (user address)");
    }
  }
  return Status::success();
}

void GuestMemory::append(const vu::MemoryRegion& r, uint8_t* host, void* map_base,
                         size_t map_len) {
  Region& slot = regions_[count_++];
  slot.desc = r;
  slot.host = host;
  slot.map_base = map_base;
  slot.map_len = map_len;
}

namespace {

// A mapping past the end of its file is legal, but touching a page past the end raises SIGBUS,
// which would take the whole process down for one frontend's lie. So the file must cover
// [0, mmap_offset + memory_size) now, and where the fd is a memfd that still allows sealing we
// seal it against shrinking (memfd_create(2), F_SEAL_SHRINK), so it cannot be cut later.
// QEMU's memory-backend-memfd (seal=on, the default) is sealed so already.
Status check_backing(const vu::MemoryRegion& r, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::fail(NetbackError::kMemory, "fstat of the guest region's fd", errno);
  }
  if (!S_ISREG(st.st_mode)) return Status::success();  // devices (DAX) have no meaningful size
  const uint64_t need = r.mmap_offset + r.memory_size;  // no wrap: validate_new
  if (static_cast<uint64_t>(st.st_size) < need) {
    return Status::fail(NetbackError::kMemory,
                        "guest region at gpa 0x" + to_hex(r.guest_phys_addr) + " needs " +
                            std::to_string(need) + " bytes of its fd (offset " +
                            std::to_string(r.mmap_offset) + " + size " +
                            std::to_string(r.memory_size) + ") but the file has only " +
                            std::to_string(st.st_size));
  }
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !(seals & F_SEAL_SEAL)) {
    (void)::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);  // best effort: a guard, not a requirement
  }
  return Status::success();
}

}  // namespace

GuestMemory::Region* GuestMemory::find_same(const vu::MemoryRegion& r) noexcept {
  for (size_t i = 0; i < count_; ++i) {
    const auto& d = regions_[i].desc;
    if (d.guest_phys_addr == r.guest_phys_addr && d.memory_size == r.memory_size &&
        d.userspace_addr == r.userspace_addr && d.mmap_offset == r.mmap_offset) {
      return &regions_[i];
    }
  }
  return nullptr;
}

Status GuestMemory::add_region(const vu::MemoryRegion& r, int fd) {
  // QEMU before 8.0 sends ADD_MEM_REG (and REM_MEM_REG) once per vhost device, so a
  // multi-queue frontend adds each region once per queue pair: the same region again only
  // counts a reference (vhost-user.rst: "VHOST_USER_ADD_MEM_REG" and the frontend's one-time
  // requests).
  if (Region* same = find_same(r)) {
    ++same->refs;
    return Status::success();
  }
  if (Status s = validate_new(r); !s) return s;
  if (Status s = check_backing(r, fd); !s) return s;
  // mmap_offset need not be page aligned, so map from the file's start and skip it; this is
  // what every backend does (the frontend's fd is the whole RAM block).
  size_t map_len = static_cast<size_t>(r.mmap_offset + r.memory_size);
  void* base = ::mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    return Status::fail(NetbackError::kMemory,
                        "mmap of guest region at gpa 0x" + to_hex(r.guest_phys_addr) +
                            " size " + std::to_string(r.memory_size),
                        errno);
  }
  append(r, static_cast<uint8_t*>(base) + r.mmap_offset, base, map_len);
  return Status::success();
}

Status GuestMemory::add_unowned_region(const vu::MemoryRegion& r, void* host) {
  if (Region* same = find_same(r)) {
    ++same->refs;
    return Status::success();
  }
  if (Status s = validate_new(r); !s) return s;
  append(r, static_cast<uint8_t*>(host), nullptr, 0);
  return Status::success();
}

bool GuestMemory::remove_region(const vu::MemoryRegion& r) noexcept {
  for (size_t i = 0; i < count_; ++i) {
    const auto& d = regions_[i].desc;
    if (d.guest_phys_addr == r.guest_phys_addr && d.memory_size == r.memory_size &&
        d.userspace_addr == r.userspace_addr) {
      if (--regions_[i].refs > 0) return true;  // added again by another queue pair's device
      if (regions_[i].map_base) ::munmap(regions_[i].map_base, regions_[i].map_len);
      for (size_t j = i + 1; j < count_; ++j) regions_[j - 1] = regions_[j];
      regions_[--count_] = Region{};
      last_hit_.store(0, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void GuestMemory::clear() noexcept {
  for (size_t i = 0; i < count_; ++i) {
    if (regions_[i].map_base) ::munmap(regions_[i].map_base, regions_[i].map_len);
    regions_[i] = Region{};
  }
  count_ = 0;
  last_hit_.store(0, std::memory_order_relaxed);
}

const GuestMemory::Region* GuestMemory::find_gpa(uint64_t gpa) const noexcept {
  // Unsigned subtraction: gpa below the start wraps to a huge offset and fails the size test.
  const uint32_t hint = last_hit_.load(std::memory_order_relaxed);
  if (hint < count_) {
    const Region& r = regions_[hint];
    if (gpa - r.desc.guest_phys_addr < r.desc.memory_size) return &r;
  }
  for (size_t i = 0; i < count_; ++i) {
    const Region& r = regions_[i];
    if (gpa - r.desc.guest_phys_addr < r.desc.memory_size) {
      last_hit_.store(uint32_t(i), std::memory_order_relaxed);
      return &r;
    }
  }
  return nullptr;
}

void* GuestMemory::gpa_to_host(uint64_t gpa, uint64_t* len) const noexcept {
  if (*len == 0) return nullptr;
  const Region* r = find_gpa(gpa);
  if (!r) return nullptr;
  uint64_t off = gpa - r->desc.guest_phys_addr;
  uint64_t avail = r->desc.memory_size - off;  // > 0 since off < memory_size
  if (*len > avail) *len = avail;
  return r->host + off;
}

int GuestMemory::gpa_to_iov(uint64_t gpa, uint64_t len, iovec* iov, int max, bool* needed_more,
                            uint64_t* gpas) const noexcept {
  if (!range_ok(gpa, len)) return -1;
  int n = 0;
  while (len > 0) {
    if (n == max) {
      if (needed_more) *needed_more = true;
      return -1;
    }
    uint64_t chunk = len;
    void* p = gpa_to_host(gpa, &chunk);
    if (!p) return -1;
    iov[n].iov_base = p;
    iov[n].iov_len = static_cast<size_t>(chunk);
    if (gpas) gpas[n] = gpa;
    ++n;
    gpa += chunk;  // cannot wrap: range_ok() above
    len -= chunk;
  }
  return n;
}

void* GuestMemory::uva_to_host(uint64_t uva, uint64_t len) const noexcept {
  if (len == 0) return nullptr;
  for (size_t i = 0; i < count_; ++i) {
    const Region& r = regions_[i];
    uint64_t off = uva - r.desc.userspace_addr;
    if (off < r.desc.memory_size && len <= r.desc.memory_size - off) return r.host + off;
  }
  return nullptr;
}

uint64_t GuestMemory::uva_to_gpa(uint64_t uva, uint64_t len) const noexcept {
  if (len == 0) return kNoGpa;
  for (size_t i = 0; i < count_; ++i) {
    const Region& r = regions_[i];
    uint64_t off = uva - r.desc.userspace_addr;
    if (off < r.desc.memory_size && len <= r.desc.memory_size - off) {
      return r.desc.guest_phys_addr + off;
    }
  }
  return kNoGpa;
}

}  // namespace uvs::netback
