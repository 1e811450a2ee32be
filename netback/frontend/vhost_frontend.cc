// SPDX-License-Identifier: MIT
// VhostFrontend: guest set-up, the vhost-user start-up/stop sequences and the frame-call plumbing.
#include "netback/frontend/vhost_frontend.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

namespace uvs::frontend {

namespace vu = netback::vu;
namespace virtio = netback::virtio;
using vu::VhostUserRequest;

namespace {

constexpr uint64_t k2MiB = uint64_t{2} << 20;
// A non-zero mmap_offset for the second region, as QEMU sends for RAM above the PCI hole.
constexpr uint64_t kSecondRegionFileOffset = k2MiB;

std::span<const uint8_t> bytes_of(const void* p, size_t n) {
  return {static_cast<const uint8_t*>(p), n};
}
template <typename T>
std::span<const uint8_t> bytes_of(const T& v) {
  return bytes_of(&v, sizeof(v));
}
template <typename T>
std::span<uint8_t> writable_bytes_of(T& v) {
  return {reinterpret_cast<uint8_t*>(&v), sizeof(v)};
}

const char* request_name(VhostUserRequest r) {
  switch (r) {
    case VhostUserRequest::kGetFeatures: return "GET_FEATURES";
    case VhostUserRequest::kSetFeatures: return "SET_FEATURES";
    case VhostUserRequest::kSetOwner: return "SET_OWNER";
    case VhostUserRequest::kSetMemTable: return "SET_MEM_TABLE";
    case VhostUserRequest::kSetVringNum: return "SET_VRING_NUM";
    case VhostUserRequest::kSetVringAddr: return "SET_VRING_ADDR";
    case VhostUserRequest::kSetVringBase: return "SET_VRING_BASE";
    case VhostUserRequest::kGetVringBase: return "GET_VRING_BASE";
    case VhostUserRequest::kSetVringKick: return "SET_VRING_KICK";
    case VhostUserRequest::kSetVringCall: return "SET_VRING_CALL";
    case VhostUserRequest::kGetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
    case VhostUserRequest::kSetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
    case VhostUserRequest::kGetQueueNum: return "GET_QUEUE_NUM";
    case VhostUserRequest::kSetVringEnable: return "SET_VRING_ENABLE";
    case VhostUserRequest::kGetConfig: return "GET_CONFIG";
    case VhostUserRequest::kGetMaxMemSlots: return "GET_MAX_MEM_SLOTS";
    case VhostUserRequest::kAddMemReg: return "ADD_MEM_REG";
    case VhostUserRequest::kSetStatus: return "SET_STATUS";
    default: return "request";
  }
}

Status step_failed(VhostUserRequest r, Status s) {
  s.message = std::string(request_name(r)) + (s.message.empty() ? "" : ": " + s.message);
  return s;
}

}  // namespace

VhostFrontend::VhostFrontend(FrontendOptions options) : opts_(std::move(options)) {}

VhostFrontend::~VhostFrontend() { close(); }

void VhostFrontend::close() noexcept {
  channel_.close();
  if (state_ == FrontendState::kRunning) state_ = FrontendState::kIdle;
}

bool VhostFrontend::acks() const noexcept {
  return opts_.ack_every_request && (protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kReplyAck));
}

Status VhostFrontend::prepare() {
  if (!pairs_.empty()) return Status::success();
  const FrontendOptions& o = opts_;
  if (o.queue_pairs == 0 || 2 * o.queue_pairs > vu::kMaxVrings) {
    return Status::fail(FrontendError::kInvalidArgument, "queue_pairs must be 1..128");
  }
  const uint64_t n = o.queue_size;
  const uint64_t ring = DriverVirtqueue::footprint(o.queue_size) + 4096;
  const uint64_t per_pair = 2 * ring + n * (o.rx_buf_len + o.tx_buf_len + 64 * 4 + 32 + 80);
  uint64_t size = o.queue_pairs * per_pair + k2MiB;
  size = (size + k2MiB - 1) & ~(k2MiB - 1);
  std::vector<RegionSpec> specs{{0, size, 0}};
  if (o.second_region) specs.push_back({o.second_region_gpa, size, kSecondRegionFileOffset});
  Status s = ram_.map(specs);
  if (!s) return s;
  QueuePairConfig qc;
  qc.queue_size = o.queue_size;
  qc.rx_buf_len = o.rx_buf_len;
  qc.tx_buf_len = o.tx_buf_len;
  qc.tx_layout = o.tx_layout;
  qc.rx_layout = o.rx_layout;
  qc.spread_regions = o.second_region;
  for (uint32_t p = 0; p < o.queue_pairs; ++p) {
    auto qp = std::make_unique<NetQueuePair>();
    s = qp->init(ram_, qc);
    if (!s) {
      pairs_.clear();
      return s;
    }
    pairs_.push_back(std::move(qp));
  }
  return Status::success();
}

Status VhostFrontend::connect(const std::string& path) {
  Status s = prepare();
  if (!s) return s;
  s = channel_.connect(path, opts_.connect_timeout_ms);
  if (!s) return s;
  return start_session();
}

Status VhostFrontend::reconnect(const std::string& path, std::span<const uint16_t> bases) {
  if (pairs_.empty() || state_ == FrontendState::kRunning || bases.size() != 2 * opts_.queue_pairs) {
    return Status::fail(FrontendError::kInvalidArgument, "reconnect needs a stopped session and one base per vring");
  }
  Status s = channel_.connect(path, opts_.connect_timeout_ms);
  if (!s) return s;
  resume_bases_ = bases;
  s = start_session();
  resume_bases_ = {};
  return s;
}

Status VhostFrontend::listen(const std::string& path) {
  Status s = prepare();
  if (!s) return s;
  return channel_.listen(path);
}

Status VhostFrontend::accept(int timeout_ms) {
  Status s = channel_.accept(timeout_ms);
  if (!s) return s;
  return start_session();
}

Status VhostFrontend::start_session() {
  state_ = FrontendState::kIdle;
  Status s = negotiate();
  if (s) s = send_memory();
  for (uint32_t v = 0; s && v < 2 * opts_.queue_pairs; ++v) s = start_vring(v);
  // With PROTOCOL_FEATURES rings start disabled and are enabled explicitly (vhost-user.rst
  // "Ring states").
  const bool protocol = (features_ >> virtio::feature::kVhostUserProtocolFeatures) & 1;
  for (uint32_t v = 0; s && protocol && v < 2 * opts_.queue_pairs; ++v) {
    vu::VringState st{v, 1};
    s = step_failed(VhostUserRequest::kSetVringEnable, request(VhostUserRequest::kSetVringEnable, bytes_of(st)));
  }
  if (s && (protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kStatus))) {
    s = set_status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk |
                   virtio::kStatusDriverOk);
  }
  if (!s) {
    channel_.close();
    return s;
  }
  state_ = FrontendState::kRunning;
  ++sessions_;
  return s;
}

Status VhostFrontend::negotiate() {
  namespace f = virtio::feature;
  protocol_features_ = 0;
  backend_protocol_features_ = 0;
  backend_queue_num_ = 0;
  features_ = 0;
  Status s = query(VhostUserRequest::kGetFeatures, {}, writable_bytes_of(backend_features_));
  if (!s) return step_failed(VhostUserRequest::kGetFeatures, s);

  uint64_t wanted = opts_.features;
  if (opts_.queue_pairs == 1) wanted &= ~virtio::feature_bit(f::kNetMq);
  features_ = backend_features_ & wanted;
  if ((features_ & opts_.required_features) != opts_.required_features) {
    char msg[96];
    std::snprintf(msg, sizeof(msg), "backend features 0x%llx lack required 0x%llx",
                  static_cast<unsigned long long>(backend_features_),
                  static_cast<unsigned long long>(opts_.required_features));
    return Status::fail(FrontendError::kFeatures, msg);
  }
  const bool indirect = (features_ >> f::kRingIndirectDesc) & 1;
  if (!indirect && (opts_.tx_layout == TxLayout::kIndirect || opts_.rx_layout == RxLayout::kIndirect)) {
    return Status::fail(FrontendError::kFeatures, "indirect layout without RING_INDIRECT_DESC");
  }

  if ((features_ >> f::kVhostUserProtocolFeatures) & 1) {
    s = query(VhostUserRequest::kGetProtocolFeatures, {}, writable_bytes_of(backend_protocol_features_));
    if (!s) return step_failed(VhostUserRequest::kGetProtocolFeatures, s);
    uint64_t proto = backend_protocol_features_ & opts_.protocol_features;
    // REPLY_ACK takes effect only once SET_PROTOCOL_FEATURES is processed: no ack for it.
    s = request(VhostUserRequest::kSetProtocolFeatures, bytes_of(proto), {}, false);
    if (!s) return step_failed(VhostUserRequest::kSetProtocolFeatures, s);
    protocol_features_ = proto;
  }
  if (protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kMq)) {
    s = query(VhostUserRequest::kGetQueueNum, {}, writable_bytes_of(backend_queue_num_));
    if (!s) return step_failed(VhostUserRequest::kGetQueueNum, s);
  }
  if (opts_.queue_pairs > 1 &&
      (!((features_ >> f::kNetMq) & 1) || backend_queue_num_ < opts_.queue_pairs)) {
    return Status::fail(FrontendError::kFeatures,
                        std::to_string(opts_.queue_pairs) + " queue pairs need MQ and GET_QUEUE_NUM >= that (backend: " +
                            std::to_string(backend_queue_num_) + ")");
  }
  s = request(VhostUserRequest::kSetOwner, {});
  if (!s) return step_failed(VhostUserRequest::kSetOwner, s);

  s = request(VhostUserRequest::kSetFeatures, bytes_of(features_));
  if (!s) return step_failed(VhostUserRequest::kSetFeatures, s);
  if (protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kStatus)) {
    s = set_status(virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk);
    if (!s) return s;
  }
  const bool v1 = (features_ >> f::kVersion1) & 1;
  const bool mrg = (features_ >> f::kNetMrgRxbuf) & 1;
  // §5.1.6: the 12-byte header with VERSION_1 or MRG_RXBUF, else the legacy 10 bytes.
  hdr_len_ = (v1 || mrg) ? virtio::kNetHdrLen : 10;
  const bool packed = (features_ >> f::kRingPacked) & 1;
  const bool event_idx = (features_ >> f::kRingEventIdx) & 1;
  if (!resume_bases_.empty()) {
    const QueuePairConfig& c = pairs_[0]->config();
    if (c.packed != packed || c.event_idx != event_idx || c.mergeable != mrg || c.hdr_len != hdr_len_) {
      return Status::fail(FrontendError::kFeatures, "resumed rings need the features they ran with");
    }
    for (auto& qp : pairs_) qp->resume();
    return Status::success();
  }
  for (auto& qp : pairs_) qp->restart(event_idx, mrg, hdr_len_, packed);
  return Status::success();
}

Status VhostFrontend::set_status(uint8_t status) {
  uint64_t v = status;
  return step_failed(VhostUserRequest::kSetStatus, request(VhostUserRequest::kSetStatus, bytes_of(v)));
}

Status VhostFrontend::send_memory() {
  const auto regions = ram_.regions();
  if (opts_.memory_mode == MemoryMode::kAddMemReg) {
    if (!(protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kConfigureMemSlots))) {
      return Status::fail(FrontendError::kFeatures, "ADD_MEM_REG needs CONFIGURE_MEM_SLOTS");
    }
    uint64_t slots = 0;
    Status s = query(VhostUserRequest::kGetMaxMemSlots, {}, writable_bytes_of(slots));
    if (!s) return step_failed(VhostUserRequest::kGetMaxMemSlots, s);
    if (slots < regions.size()) {
      return Status::fail(FrontendError::kFeatures, "backend has only " + std::to_string(slots) + " memory slots");
    }
    for (size_t i = 0; i < regions.size(); ++i) {
      vu::SingleMemoryRegion m{0, ram_.wire_region(i)};
      int fd = regions[i].fd;
      s = request(VhostUserRequest::kAddMemReg, bytes_of(m), {&fd, 1});
      if (!s) return step_failed(VhostUserRequest::kAddMemReg, s);
    }
    return Status::success();
  }
  vu::MemoryTable table{};
  int fds[vu::kMaxMemTableRegions];
  table.num_regions = static_cast<uint32_t>(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) {
    table.regions[i] = ram_.wire_region(i);
    fds[i] = regions[i].fd;
  }
  // QEMU sends only the used entries: 8 + n * 32 bytes.
  const size_t size = vu::kMemoryTableHeaderSize + regions.size() * sizeof(vu::MemoryRegion);
  return step_failed(VhostUserRequest::kSetMemTable,
                     request(VhostUserRequest::kSetMemTable, bytes_of(&table, size), {fds, regions.size()}));
}

Status VhostFrontend::start_vring(uint32_t index) {
  NetQueuePair& qp = *pairs_[index / 2];
  const bool tx = virtio::is_tx_queue(index);
  DriverVirtqueue& q = tx ? qp.tx() : qp.rx();
  // QEMU's order (vhost_virtqueue_start): NUM, BASE, ADDR, KICK, CALL.
  vu::VringState num{index, q.size()};
  Status s = request(VhostUserRequest::kSetVringNum, bytes_of(num));
  if (!s) return step_failed(VhostUserRequest::kSetVringNum, s);
  // The device resumes at the first entry it has not consumed; a fresh ring starts at 0 (a
  // packed one at index 0 with wrap counter 1). For a packed ring QEMU puts the avail position
  // (index | wrap << 15) in bits 0-15 and the used one in bits 16-31; nothing is in flight
  // across a stop, so they are equal.
  const uint32_t pos = resume_bases_.empty() ? q.last_used_idx() : resume_bases_[index];
  vu::VringState base{index, q.packed() ? pos | pos << 16 : pos};
  s = request(VhostUserRequest::kSetVringBase, bytes_of(base));
  if (!s) return step_failed(VhostUserRequest::kSetVringBase, s);
  s = set_vring_addr(index, false);
  if (!s) return s;
  uint64_t kick = index;
  int kfd = tx ? qp.tx_kick_fd() : qp.rx_kick_fd();
  if (tx && opts_.tx_kick_nofd) {
    // vhost-user.rst SET_VRING_KICK: bit 8 set means no fd; the back-end polls the ring.
    kick |= vu::kVringNofdMask;
    s = request(VhostUserRequest::kSetVringKick, bytes_of(kick), {});
  } else {
    s = request(VhostUserRequest::kSetVringKick, bytes_of(kick), {&kfd, 1});
  }
  if (!s) return step_failed(VhostUserRequest::kSetVringKick, s);
  uint64_t call = index;
  int cfd = tx ? qp.tx_call_fd() : qp.rx_call_fd();
  s = request(VhostUserRequest::kSetVringCall, bytes_of(call), {&cfd, 1});
  if (!s) return step_failed(VhostUserRequest::kSetVringCall, s);
  return Status::success();
}

Status VhostFrontend::set_vring_addr(uint32_t index, bool log) {
  NetQueuePair& qp = *pairs_[index / 2];
  const DriverVirtqueue& q = virtio::is_tx_queue(index) ? qp.tx() : qp.rx();
  const RingPlacement& p = q.placement();
  // vhost-user.rst "Migration": with VHOST_VRING_F_LOG, used ring writes are logged at
  // log_guest_addr (QEMU passes the ring's guest-physical address).
  vu::VringAddr addr{index, log ? vu::kVringAddrFlagLog : 0u, ram_.user_addr(p.desc_gpa),
                     ram_.user_addr(p.used_gpa), ram_.user_addr(p.avail_gpa), log ? p.used_gpa : 0};
  return step_failed(VhostUserRequest::kSetVringAddr, request(VhostUserRequest::kSetVringAddr, bytes_of(addr)));
}

uint64_t VhostFrontend::dirty_log_size() const noexcept {
  uint64_t end = 0;
  for (const RamRegion& r : ram_.regions()) end = std::max(end, r.gpa + r.size);
  const uint64_t pages = (end + 4095) / 4096;
  return (pages + 7) / 8;
}

Status VhostFrontend::start_dirty_log(int log_fd, uint64_t size, uint64_t offset) {
  if (state_ != FrontendState::kRunning) {
    return Status::fail(FrontendError::kInvalidArgument, "dirty logging needs a running session");
  }
  if (!(protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kLogShmfd))) {
    return Status::fail(FrontendError::kFeatures, "dirty logging needs LOG_SHMFD");
  }
  // vhost-user.rst "Communication": with LOG_SHMFD the back-end replies to SET_LOG_BASE.
  vu::LogDescription d{size, offset};
  vu::VhostUserHeader hdr{static_cast<uint32_t>(VhostUserRequest::kSetLogBase), vu::kFlagVersion,
                          sizeof d};
  Status s = send_raw(hdr, bytes_of(d), {&log_fd, 1});
  if (!s) return step_failed(VhostUserRequest::kSetLogBase, s);
  vu::VhostUserHeader rh{};
  uint64_t ignored = 0;
  uint32_t len = 0;
  s = channel_.recv(&rh, writable_bytes_of(ignored), &len, opts_.reply_timeout_ms);
  if (!s) return step_failed(VhostUserRequest::kSetLogBase, s);
  ++replies_;
  if (rh.request != hdr.request || !(rh.flags & vu::kFlagReply)) {
    return Status::fail(FrontendError::kBadReply, "SET_LOG_BASE reply " + std::to_string(rh.request));
  }
  const uint64_t f = features_ | virtio::feature_bit(virtio::feature::kLogAll);
  s = step_failed(VhostUserRequest::kSetFeatures, request(VhostUserRequest::kSetFeatures, bytes_of(f)));
  for (uint32_t v = 0; s && v < 2 * opts_.queue_pairs; ++v) s = set_vring_addr(v, true);
  return s;
}

Status VhostFrontend::stop_dirty_log() {
  Status s = step_failed(VhostUserRequest::kSetFeatures, request(VhostUserRequest::kSetFeatures, bytes_of(features_)));
  for (uint32_t v = 0; s && v < 2 * opts_.queue_pairs; ++v) s = set_vring_addr(v, false);
  return s;
}

Status VhostFrontend::disconnect(std::vector<uint16_t>* bases) {
  Status first;
  if (bases != nullptr) bases->clear();
  if (channel_.connected() && state_ == FrontendState::kRunning) {
    for (uint32_t v = 0; v < 2 * opts_.queue_pairs; ++v) {
      vu::VringState st{v, 0};
      vu::VringState reply{};
      Status s = query(VhostUserRequest::kGetVringBase, bytes_of(st), writable_bytes_of(reply));
      if (!s || reply.index != v) {
        if (first) first = s ? Status::fail(FrontendError::kBadReply, "GET_VRING_BASE index mismatch") : s;
        break;
      }
      if (bases != nullptr) bases->push_back(static_cast<uint16_t>(reply.num));
    }
    if (first && (protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kStatus))) {
      first = set_status(0);
    }
  }
  channel_.close();
  state_ = FrontendState::kIdle;
  return first;
}

Status VhostFrontend::send_raw(const vu::VhostUserHeader& hdr, std::span<const uint8_t> payload,
                               std::span<const int> fds) {
  ++messages_sent_;
  return channel_.send(hdr, payload, fds);
}

Status VhostFrontend::request(VhostUserRequest req, std::span<const uint8_t> payload,
                              std::span<const int> fds, bool want_ack) {
  const bool ack = want_ack && acks();
  vu::VhostUserHeader hdr{static_cast<uint32_t>(req), vu::kFlagVersion | (ack ? vu::kFlagNeedReply : 0u),
                          static_cast<uint32_t>(payload.size())};
  Status s = send_raw(hdr, payload, fds);
  if (!s || !ack) return s;
  vu::VhostUserHeader rh{};
  uint64_t result = 0;
  uint32_t len = 0;
  s = channel_.recv(&rh, writable_bytes_of(result), &len, opts_.reply_timeout_ms);
  if (!s) return s;
  ++replies_;
  if (rh.request != hdr.request || !(rh.flags & vu::kFlagReply) || len != sizeof(result)) {
    return Status::fail(FrontendError::kBadReply, "ack for request " + std::to_string(rh.request) +
                                                      " size " + std::to_string(len));
  }
  if (result != 0) return Status::fail(FrontendError::kNack, "status " + std::to_string(result));
  return Status::success();
}

Status VhostFrontend::query(VhostUserRequest req, std::span<const uint8_t> payload, std::span<uint8_t> reply) {
  vu::VhostUserHeader hdr{static_cast<uint32_t>(req), vu::kFlagVersion, static_cast<uint32_t>(payload.size())};
  Status s = send_raw(hdr, payload, {});
  if (!s) return s;
  vu::VhostUserHeader rh{};
  uint32_t len = 0;
  s = channel_.recv(&rh, reply, &len, opts_.reply_timeout_ms);
  if (!s) return s;
  ++replies_;
  if (rh.request != hdr.request || !(rh.flags & vu::kFlagReply) ||
      (rh.flags & vu::kFlagVersionMask) != vu::kFlagVersion || len != reply.size()) {
    return Status::fail(FrontendError::kBadReply, "reply request " + std::to_string(rh.request) + " flags " +
                                                      std::to_string(rh.flags) + " size " + std::to_string(len));
  }
  return Status::success();
}

Result<virtio::VirtioNetConfig> VhostFrontend::get_config() {
  if (!(protocol_features_ & vu::protocol_bit(vu::ProtocolFeature::kConfig))) {
    return Status::fail(FrontendError::kFeatures, "GET_CONFIG needs the CONFIG protocol feature");
  }
  // mac, status, max_virtqueue_pairs: the part every virtio-net config space has.
  constexpr uint32_t kLen = 10;
  struct {
    vu::ConfigHeader hdr;
    uint8_t data[kLen];
  } msg{{0, kLen, 0}, {}}, reply{};
  Status s = query(VhostUserRequest::kGetConfig, bytes_of(&msg, sizeof(vu::ConfigHeader) + kLen),
                   {reinterpret_cast<uint8_t*>(&reply), sizeof(vu::ConfigHeader) + kLen});
  if (!s) return step_failed(VhostUserRequest::kGetConfig, s);
  virtio::VirtioNetConfig cfg{};
  std::memcpy(&cfg, reply.data, kLen);
  return cfg;
}

bool VhostFrontend::wait_backend_closed(int timeout_ms) {
  bool closed = channel_.wait_peer_closed(timeout_ms);
  if (closed && state_ == FrontendState::kRunning) state_ = FrontendState::kIdle;
  return closed;
}

size_t VhostFrontend::send_frames(std::span<const std::span<const uint8_t>> frames, uint32_t pair,
                                  std::span<const netback::virtio::VirtioNetHdrV1> hdrs) noexcept {
  if (state_ != FrontendState::kRunning || pair >= pairs_.size()) return 0;
  return pairs_[pair]->send(frames, hdrs);
}

size_t VhostFrontend::receive_frames(std::span<RxFrame> out, int timeout_ms, uint32_t pair) noexcept {
  if (state_ != FrontendState::kRunning || pair >= pairs_.size()) return 0;
  return pairs_[pair]->receive(out, timeout_ms);
}

bool VhostFrontend::flush_tx(int timeout_ms, uint32_t pair) noexcept {
  if (state_ != FrontendState::kRunning || pair >= pairs_.size()) return false;
  return pairs_[pair]->flush_tx(timeout_ms);
}

FrontendStats VhostFrontend::stats() const noexcept {
  FrontendStats s;
  for (const auto& qp : pairs_) s.queues += qp->stats();
  s.messages_sent = messages_sent_;
  s.replies = replies_;
  s.sessions = sessions_;
  return s;
}

}  // namespace uvs::frontend
