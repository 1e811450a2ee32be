// SPDX-License-Identifier: MIT
// Fault injection: the bad messages and bad rings behind VhostFrontend::inject().
#include "netback/frontend/fault.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "netback/frontend/vhost_frontend.h"

namespace uvs::frontend {

namespace vu = netback::vu;
namespace virtio = netback::virtio;
using vu::VhostUserRequest;

namespace {

constexpr FaultInfo kFaults[] = {
    {Fault::kDisconnectMidHeader, "disconnect-mid-header", FaultTarget::kControl, true},
    {Fault::kDisconnectMidPayload, "disconnect-mid-payload", FaultTarget::kControl, true},
    {Fault::kPayloadTooShort, "payload-too-short", FaultTarget::kControl, false},
    {Fault::kPayloadTooLong, "payload-too-long", FaultTarget::kControl, false},
    {Fault::kPayloadHuge, "payload-huge", FaultTarget::kControl, false},
    {Fault::kMemTableTooManyRegions, "mem-table-too-many-regions", FaultTarget::kControl, false},
    {Fault::kMemRegionOverflow, "mem-region-overflow", FaultTarget::kControl, false},
    {Fault::kTooManyFds, "too-many-fds", FaultTarget::kControl, false},
    {Fault::kMissingFds, "missing-fds", FaultTarget::kControl, false},
    {Fault::kMemFdTooShort, "mem-fd-too-short", FaultTarget::kControl, false},
    {Fault::kKickWithoutFd, "kick-without-fd", FaultTarget::kControl, false},
    {Fault::kUnknownRequest, "unknown-request", FaultTarget::kControl, false},
    {Fault::kVringIndexOutOfRange, "vring-index-out-of-range", FaultTarget::kControl, false},
    {Fault::kVringNumTooLarge, "vring-num-too-large", FaultTarget::kControl, false},
    {Fault::kRingAddrOutOfMemory, "ring-addr-out-of-memory", FaultTarget::kControl, false},
    {Fault::kDescOutOfMemory, "desc-out-of-memory", FaultTarget::kTxRing, false},
    {Fault::kDescStraddlesRegionEnd, "desc-straddles-region-end", FaultTarget::kTxRing, false},
    {Fault::kDescNextOutOfRange, "desc-next-out-of-range", FaultTarget::kTxRing, false, FaultRings::kSplitOnly},
    {Fault::kDescChainLoop, "desc-chain-loop", FaultTarget::kTxRing, false, FaultRings::kSplitOnly},
    {Fault::kChainLongerThanRing, "chain-longer-than-ring", FaultTarget::kTxRing, false},
    {Fault::kZeroLengthDesc, "zero-length-desc", FaultTarget::kTxRing, false},
    {Fault::kHugeLengthDesc, "huge-length-desc", FaultTarget::kTxRing, false},
    {Fault::kAvailIdxJump, "avail-idx-jump", FaultTarget::kTxRing, false, FaultRings::kSplitOnly},
    {Fault::kAvailHeadOutOfRange, "avail-head-out-of-range", FaultTarget::kTxRing, false, FaultRings::kSplitOnly},
    {Fault::kIndirectBadLength, "indirect-bad-length", FaultTarget::kTxRing, false},
    {Fault::kIndirectNested, "indirect-nested", FaultTarget::kTxRing, false},
    {Fault::kIndirectOutOfMemory, "indirect-out-of-memory", FaultTarget::kTxRing, false},
    {Fault::kIndirectWithNext, "indirect-with-next", FaultTarget::kTxRing, false},
    {Fault::kPackedChainWrongWrap, "packed-chain-wrong-wrap", FaultTarget::kTxRing, false,
     FaultRings::kPackedOnly},
    {Fault::kPackedBadId, "packed-bad-id", FaultTarget::kTxRing, false, FaultRings::kPackedOnly},
    {Fault::kRxDescOutOfMemory, "rx-desc-out-of-memory", FaultTarget::kRxRing, false},
    {Fault::kRxDescReadOnly, "rx-desc-read-only", FaultTarget::kRxRing, false},
};

template <typename T>
std::span<const uint8_t> bytes_of(const T& v) {
  return {reinterpret_cast<const uint8_t*>(&v), sizeof(v)};
}

vu::VhostUserHeader header(VhostUserRequest r, uint32_t size, uint32_t extra_flags = 0) {
  return {static_cast<uint32_t>(r), vu::kFlagVersion | extra_flags, size};
}

// Control-message faults: well-framed (unless the fault is about framing) but wrong.
Status inject_control(VhostFrontend& fe, Fault fault) {
  FrontendChannel& ch = fe.channel();
  GuestRam& ram = fe.ram();
  const auto regions = ram.regions();
  int region_fds[vu::kMaxFds + 1];
  for (size_t i = 0; i <= vu::kMaxFds; ++i) region_fds[i] = regions[i % regions.size()].fd;
  vu::MemoryTable table{};
  table.num_regions = static_cast<uint32_t>(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) table.regions[i] = ram.wire_region(i);
  const uint32_t table_size =
      static_cast<uint32_t>(vu::kMemoryTableHeaderSize + regions.size() * sizeof(vu::MemoryRegion));
  const auto table_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&table), table_size);

  switch (fault) {
    case Fault::kDisconnectMidHeader: {
      vu::VhostUserHeader h = header(VhostUserRequest::kSetVringNum, sizeof(vu::VringState));
      Status s = ch.send_bytes({reinterpret_cast<const uint8_t*>(&h), 6}, {});
      fe.close();
      return s;
    }
    case Fault::kDisconnectMidPayload: {
      // The fds ride on the first byte, so the backend holds them when the stream ends.
      vu::VhostUserHeader h = header(VhostUserRequest::kSetMemTable, table_size);
      uint8_t buf[sizeof(h) + sizeof(table)];
      std::memcpy(buf, &h, sizeof(h));
      std::memcpy(buf + sizeof(h), &table, table_size);
      Status s = ch.send_bytes({buf, sizeof(h) + table_size / 2}, {region_fds, regions.size()});
      fe.close();
      return s;
    }
    case Fault::kPayloadTooShort: {
      uint32_t index = 1;
      return fe.send_raw(header(VhostUserRequest::kSetVringNum, 4), bytes_of(index));
    }
    case Fault::kPayloadTooLong: {
      uint64_t payload[2] = {1, 0};
      return fe.send_raw(header(VhostUserRequest::kSetVringBase, 16), bytes_of(payload));
    }
    case Fault::kPayloadHuge: {
      uint64_t some = 0;
      return fe.send_raw(header(VhostUserRequest::kSetMemTable, 256u << 20), bytes_of(some));
    }
    case Fault::kMemTableTooManyRegions: {
      vu::MemoryTable t = table;
      t.num_regions = vu::kMaxMemTableRegions + 1;
      return fe.send_raw(header(VhostUserRequest::kSetMemTable, sizeof(t)), bytes_of(t),
                         {region_fds, vu::kMaxMemTableRegions});
    }
    case Fault::kMemRegionOverflow: {
      vu::MemoryTable t = table;
      t.num_regions = 1;
      t.regions[0].guest_phys_addr = ~uint64_t{0} - 4095;  // + size wraps past 2^64
      return fe.send_raw(header(VhostUserRequest::kSetMemTable, vu::kMemoryTableHeaderSize + sizeof(vu::MemoryRegion)),
                         {reinterpret_cast<const uint8_t*>(&t), vu::kMemoryTableHeaderSize + sizeof(vu::MemoryRegion)},
                         {region_fds, 1});
    }
    case Fault::kTooManyFds:
      return fe.send_raw(header(VhostUserRequest::kSetMemTable, table_size), table_bytes,
                         {region_fds, vu::kMaxFds + 1});
    case Fault::kMissingFds:
      return fe.send_raw(header(VhostUserRequest::kSetMemTable, table_size), table_bytes, {});
    case Fault::kMemFdTooShort: {
      // The same table, but region 0 is backed by a file of one page: a backend that maps it
      // without checking the size faults (SIGBUS) on its first touch past that page.
      const int short_fd = ::memfd_create("uvs-short-ram", MFD_CLOEXEC);
      if (short_fd < 0 || ::ftruncate(short_fd, 4096) != 0) {
        if (short_fd >= 0) ::close(short_fd);
        return Status::fail(FrontendError::kMemory, "memfd for the short region", errno);
      }
      region_fds[0] = short_fd;
      Status s = fe.send_raw(header(VhostUserRequest::kSetMemTable, table_size), table_bytes,
                             {region_fds, regions.size()});
      ::close(short_fd);
      if (s && fe.queue_pair_count() > 0) fe.queue_pair(0).kick(true);
      return s;
    }
    case Fault::kKickWithoutFd: {
      uint64_t index = virtio::tx_queue_index(0);  // no kVringNofdMask: an fd is promised
      return fe.send_raw(header(VhostUserRequest::kSetVringKick, sizeof(index)), bytes_of(index));
    }
    case Fault::kUnknownRequest:
      return fe.send_raw({0x7777, vu::kFlagVersion | vu::kFlagNeedReply, 0}, {});
    case Fault::kVringIndexOutOfRange: {
      vu::VringState st{255, fe.options().queue_size};
      return fe.send_raw(header(VhostUserRequest::kSetVringNum, sizeof(st)), bytes_of(st));
    }
    case Fault::kVringNumTooLarge: {
      vu::VringState st{virtio::tx_queue_index(0), 65535};
      return fe.send_raw(header(VhostUserRequest::kSetVringNum, sizeof(st)), bytes_of(st));
    }
    case Fault::kRingAddrOutOfMemory: {
      // Our own addresses are real pointers of this process; the tail of a 64-bit space is not.
      const uint64_t nowhere = 0xdead'0000'0000'0000ull;
      vu::VringAddr a{virtio::tx_queue_index(0), 0, nowhere, nowhere + 0x10000, nowhere + 0x8000, 0};
      Status s = fe.send_raw(header(VhostUserRequest::kSetVringAddr, sizeof(a)), bytes_of(a));
      if (s && fe.queue_pair_count() > 0) fe.queue_pair(0).kick(true);
      return s;
    }
    default:
      return Status::fail(FrontendError::kInvalidArgument, "not a control fault");
  }
}

// What every TX-ring fault writes its chains with: scratch guest memory for buffers and
// indirect tables, and the virtio-net header length.
struct TxScratch {
  GuestRam* ram = nullptr;
  uint64_t data_gpa = 0;
  uint32_t hdr = 0;
};

// Returns the pair's used TX buffers and takes a page of scratch guest memory for the fault.
Status prepare_tx(VhostFrontend& fe, NetQueuePair& qp, TxScratch* out) {
  qp.reap_tx();
  auto scratch = fe.ram().alloc(4096, 64, 0);
  if (!scratch) return Status::fail(FrontendError::kMemory, "no guest memory left for the fault");
  *out = {&fe.ram(), *scratch, fe.net_hdr_len()};
  return Status::success();
}

// Makes the fault's chains available and kicks: the end of every TX-ring fault, either layout.
template <class Ring>
Status publish_tx(VhostFrontend& fe, NetQueuePair& qp, Ring& q, bool ok) {
  if (!ok) return Status::fail(FrontendError::kInvalidArgument, "TX ring has no free descriptors for the fault");
  q.publish();
  qp.kick(true);  // unconditionally: the backend may have suppressed kicks while polling
  fe.poison();
  return Status::success();
}

// A descriptor of either layout with no NEXT link (split: next 0; packed: buffer id 0, which
// the device ignores inside an indirect table).
template <class Desc>
Desc plain_desc(uint64_t addr, uint32_t len, uint16_t flags) {
  if constexpr (std::is_same_v<Desc, virtio::VringDesc>) {
    return {addr, len, flags, 0};
  } else {
    return {addr, len, 0, flags};
  }
}

// The TX faults that are written the same way on either layout: one descriptor made available
// through `single(addr, len, flags)`, with indirect tables of `Desc` entries: each layout's own
// descriptor format (virtio "Indirect Descriptors" for split rings, "Indirect Flag:
// Scatter-Gather Support" for packed ones). Whether the descriptor could be added; nullopt when
// `fault` is not one of them.
template <class Desc, class Single>
std::optional<bool> inject_tx_common(Fault fault, const TxScratch& s, Single single) {
  GuestRam& ram = *s.ram;
  switch (fault) {
    case Fault::kDescOutOfMemory:
      return single(ram.unmapped_gpa(), s.hdr + 60, 0);
    case Fault::kDescStraddlesRegionEnd: {
      const RamRegion& r0 = ram.regions()[0];
      return single(r0.gpa + r0.size - 8, s.hdr + 52, 0);
    }
    case Fault::kZeroLengthDesc:
      return single(s.data_gpa, 0, 0);
    case Fault::kHugeLengthDesc:
      return single(s.data_gpa, 0xFFFF'FFFFu, 0);
    case Fault::kIndirectBadLength:
      return single(s.data_gpa, 17, virtio::kDescFIndirect);
    case Fault::kIndirectNested: {
      auto* table = reinterpret_cast<Desc*>(ram.host(s.data_gpa, 2 * sizeof(Desc)));
      table[0] = plain_desc<Desc>(s.data_gpa + 1024, 2 * sizeof(Desc), virtio::kDescFIndirect);
      table[1] = plain_desc<Desc>(s.data_gpa + 2048, 60, 0);
      return single(s.data_gpa, 2 * sizeof(Desc), virtio::kDescFIndirect);
    }
    case Fault::kIndirectOutOfMemory:
      return single(ram.unmapped_gpa(), 2 * sizeof(Desc), virtio::kDescFIndirect);
    default:
      return std::nullopt;
  }
}

// TX-ring faults: hand-written chains the device must refuse, published and kicked.
Status inject_tx(VhostFrontend& fe, Fault fault, uint32_t pair) {
  NetQueuePair& qp = fe.queue_pair(pair);
  DriverVirtqueue& q = qp.tx();
  TxScratch s;
  if (Status st = prepare_tx(fe, qp, &s); !st) return st;
  const uint64_t data_gpa = s.data_gpa;
  const uint32_t hdr = s.hdr;
  virtio::VringDesc* d = q.desc_table();
  const uint32_t n = q.size();

  auto take = [&]() -> int32_t { return q.raw_take_desc(); };
  auto single = [&](uint64_t addr, uint32_t len, uint16_t flags) -> bool {
    int32_t i = take();
    if (i < 0) return false;
    d[i] = {addr, len, flags, 0};
    q.raw_push_avail(static_cast<uint16_t>(i));
    return true;
  };
  if (std::optional<bool> done = inject_tx_common<virtio::VringDesc>(fault, s, single)) {
    return publish_tx(fe, qp, q, *done);
  }
  bool ok = true;
  switch (fault) {
    case Fault::kDescNextOutOfRange: {
      int32_t i = take();
      ok = i >= 0;
      if (ok) {
        d[i] = {data_gpa, hdr, virtio::kDescFNext, static_cast<uint16_t>(n)};
        q.raw_push_avail(static_cast<uint16_t>(i));
      }
      break;
    }
    case Fault::kDescChainLoop: {
      int32_t a = take(), b = take();
      ok = a >= 0 && b >= 0;
      if (ok) {
        d[a] = {data_gpa, hdr, virtio::kDescFNext, static_cast<uint16_t>(b)};
        d[b] = {data_gpa + hdr, 60, virtio::kDescFNext, static_cast<uint16_t>(a)};
        q.raw_push_avail(static_cast<uint16_t>(a));
      }
      break;
    }
    case Fault::kChainLongerThanRing: {
      // Every free descriptor, each 1 byte long and linked in order, the last back to the first:
      // the chain never ends, and is longer than the ring once the walk passes queue_size.
      std::vector<int32_t> ids;
      for (int32_t i = take(); i >= 0; i = take()) ids.push_back(i);
      ok = ids.size() >= 2;
      for (size_t k = 0; ok && k < ids.size(); ++k) {
        uint16_t next = static_cast<uint16_t>(ids[(k + 1) % ids.size()]);
        d[ids[k]] = {data_gpa + (k % 64), 1, virtio::kDescFNext, next};
      }
      if (ok) q.raw_push_avail(static_cast<uint16_t>(ids[0]));
      break;
    }
    case Fault::kAvailIdxJump:
      // Publishing n + 1 new entries at once: more than the ring holds.
      q.raw_store_avail_idx(static_cast<uint16_t>(q.avail_idx() + n + 1));
      qp.kick(true);
      fe.poison();
      return Status::success();
    case Fault::kAvailHeadOutOfRange:
      q.raw_push_avail(static_cast<uint16_t>(n + 5));
      break;
    case Fault::kIndirectWithNext: {
      auto* table = reinterpret_cast<virtio::VringDesc*>(s.ram->host(data_gpa, sizeof(virtio::VringDesc)));
      table[0] = {data_gpa + 1024, hdr + 60, 0, 0};
      int32_t a = take(), b = take();
      ok = a >= 0 && b >= 0;
      if (ok) {
        d[a] = {data_gpa, sizeof(virtio::VringDesc), virtio::kDescFIndirect | virtio::kDescFNext,
                static_cast<uint16_t>(b)};
        d[b] = {data_gpa + 2048, 60, 0, 0};
        q.raw_push_avail(static_cast<uint16_t>(a));
      }
      break;
    }
    default:
      return Status::fail(FrontendError::kInvalidArgument, "not a TX-ring fault");
  }
  return publish_tx(fe, qp, q, ok);
}

// The packed counterparts of the TX-ring faults (virtio 1.1 §2.7): hand-written descriptors at
// the next ring positions, the head made available last, then a kick.
Status inject_tx_packed(VhostFrontend& fe, Fault fault, uint32_t pair) {
  NetQueuePair& qp = fe.queue_pair(pair);
  DriverPackedRing& q = qp.tx().packed_ring();
  TxScratch s;
  if (Status st = prepare_tx(fe, qp, &s); !st) return st;
  const uint64_t data_gpa = s.data_gpa;
  const uint32_t hdr = s.hdr;
  const uint16_t id = 0;  // ids of hand-written chains are never freed: any value does
  using virtio::PackedDesc;
  auto single = [&](uint64_t addr, uint32_t len, uint16_t flags) {
    const PackedDesc d{addr, len, id, flags};
    return q.raw_add({&d, 1});
  };
  if (std::optional<bool> done = inject_tx_common<PackedDesc>(fault, s, single)) {
    return publish_tx(fe, qp, q, *done);
  }
  bool ok = true;
  switch (fault) {
    case Fault::kChainLongerThanRing: {
      // Every slot of the ring, each chained to the next: the chain runs all the way round and
      // its last descriptor still says NEXT. Needs the whole ring back from the device first.
      qp.flush_tx(2000);
      std::vector<PackedDesc> chain(q.size());
      for (size_t k = 0; k < chain.size(); ++k) chain[k] = {data_gpa + (k % 64), 1, id, virtio::kDescFNext};
      ok = q.raw_add(chain);
      break;
    }
    case Fault::kIndirectWithNext: {
      auto* table = reinterpret_cast<PackedDesc*>(s.ram->host(data_gpa, sizeof(PackedDesc)));
      table[0] = {data_gpa + 1024, hdr + 60, 0, 0};
      const PackedDesc chain[2] = {{data_gpa, sizeof(PackedDesc), id,
                                    static_cast<uint16_t>(virtio::kDescFIndirect | virtio::kDescFNext)},
                                   {data_gpa + 2048, 60, id, 0}};
      ok = q.raw_add(chain);
      break;
    }
    case Fault::kPackedChainWrongWrap: {
      const PackedDesc chain[2] = {{data_gpa, hdr, id, virtio::kDescFNext}, {data_gpa + hdr, 60, id, 0}};
      ok = q.raw_add(chain, true);
      break;
    }
    case Fault::kPackedBadId: {
      // A well-formed broadcast frame (zero virtio-net header) from 02:00:00:00:00:fe.
      uint8_t* p = s.ram->host(data_gpa, hdr + 60);
      std::memset(p, 0, hdr + 60);
      std::memset(p + hdr, 0xff, 6);
      const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0xfe};
      std::memcpy(p + hdr + 6, src, 6);
      p[hdr + 12] = 0x88;
      p[hdr + 13] = 0xb5;
      const PackedDesc d{data_gpa, hdr + 60, 0xffff, 0};
      ok = q.raw_add({&d, 1});
      break;
    }
    default:
      return Status::fail(FrontendError::kInvalidArgument, "not a packed TX-ring fault");
  }
  return publish_tx(fe, qp, q, ok);
}

// RX faults rewrite every posted descriptor of `ring` in place (for an indirect buffer, the
// entries of its table instead), either layout: pointed outside guest memory, or stripped of
// WRITE. The flags are changed with an atomic RMW: on a packed ring the device writes the same
// field when it returns a buffer.
template <class Desc>
void corrupt_rx(GuestRam& ram, Fault fault, Desc* ring, uint32_t size) {
  const uint64_t nowhere = ram.unmapped_gpa();
  auto corrupt = [&](Desc& d) {
    if (fault == Fault::kRxDescOutOfMemory) {
      d.addr = nowhere;
    } else {
      std::atomic_ref<uint16_t>(d.flags).fetch_and(static_cast<uint16_t>(~virtio::kDescFWrite));
    }
  };
  for (uint32_t i = 0; i < size; ++i) {
    if (ring[i].flags & virtio::kDescFIndirect) {
      auto* t = reinterpret_cast<Desc*>(ram.host(ring[i].addr, ring[i].len));
      for (uint32_t k = 0; t != nullptr && k < ring[i].len / sizeof(Desc); ++k) corrupt(t[k]);
      continue;
    }
    corrupt(ring[i]);
  }
}

// RX-ring faults: corrupt the buffers already posted, so the next delivery trips on them.
Status inject_rx(VhostFrontend& fe, Fault fault, uint32_t pair) {
  NetQueuePair& qp = fe.queue_pair(pair);
  DriverVirtqueue& q = qp.rx();
  if (q.packed()) {
    corrupt_rx(fe.ram(), fault, q.packed_ring().ring(), q.packed_ring().size());
  } else {
    corrupt_rx(fe.ram(), fault, q.desc_table(), q.size());
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  qp.kick(false);
  fe.poison();
  return Status::success();
}

}  // namespace

std::span<const FaultInfo> all_faults() noexcept { return kFaults; }

const FaultInfo& fault_info(Fault fault) noexcept {
  for (const FaultInfo& f : kFaults) {
    if (f.fault == fault) return f;
  }
  return kFaults[0];  // unreachable: every enumerator is listed
}

Status VhostFrontend::inject(Fault fault, uint32_t pair) {
  const FaultInfo& info = fault_info(fault);
  if (!channel_.connected() || pairs_.empty()) {
    return Status::fail(FrontendError::kNotConnected, std::string("inject ") + info.name);
  }
  if (pair >= pairs_.size()) return Status::fail(FrontendError::kInvalidArgument, "queue pair out of range");
  if (info.target != FaultTarget::kControl && state_ != FrontendState::kRunning) {
    return Status::fail(FrontendError::kInvalidArgument, std::string(info.name) + " needs a running session");
  }
  const bool packed = pairs_[pair]->config().packed;
  if (!fault_applies(info, packed)) {
    return Status::fail(FrontendError::kInvalidArgument,
                        std::string(info.name) + (packed ? " needs a split ring" : " needs a packed ring"));
  }
  Status s;
  switch (info.target) {
    case FaultTarget::kControl:
      s = inject_control(*this, fault);
      if (state_ == FrontendState::kRunning) poison();
      break;
    case FaultTarget::kTxRing:
      s = packed ? inject_tx_packed(*this, fault, pair) : inject_tx(*this, fault, pair);
      break;
    case FaultTarget::kRxRing:
      s = inject_rx(*this, fault, pair);
      break;
  }
  return s;
}

}  // namespace uvs::frontend
