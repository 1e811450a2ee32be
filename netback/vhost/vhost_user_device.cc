// SPDX-License-Identifier: MIT
// VhostUserDevice: per-request handling of the vhost-user front-end messages for virtio-net.
#include "netback/vhost/vhost_user_device.h"

#include <unistd.h>

#include <cstring>

#include "netback/common/virtio_defs.h"

namespace uvs::netback {

using vu::ProtocolFeature;
using vu::VhostUserRequest;
using R = VhostUserRequest;
namespace feat = virtio::feature;
using virtio::feature_bit;

namespace {

HandleOutcome fail(std::string* error, HandleOutcome how, const VhostUserMsg& msg,
                   const char* what) {
  *error = request_name(msg.request());
  *error += ": ";
  *error += what;
  return how;
}

void reply_u64(DeviceReply* reply, uint64_t v) {
  reply->send = true;
  reply->size = sizeof(uint64_t);
  reply->payload.u64 = v;
}

}  // namespace

VhostUserDevice::VhostUserDevice(const NetDeviceConfig& config, VhostUserDeviceListener* listener)
    : config_(config), listener_(listener) {
  vring_count_ = 2 * config_.queue_pairs;
  vrings_ = std::make_unique<Vring[]>(vring_count_);
  offered_features_ = feature_bit(feat::kVersion1) | feature_bit(feat::kNetMrgRxbuf) |
                      feature_bit(feat::kRingEventIdx) | feature_bit(feat::kRingIndirectDesc) |
                      feature_bit(feat::kNetMtu) | feature_bit(feat::kNetStatus) |
                      feature_bit(feat::kNotifyOnEmpty) | feature_bit(feat::kAnyLayout) |
                      feature_bit(feat::kRingPacked) |
                      feature_bit(feat::kVhostUserProtocolFeatures);
  // vhost-user.rst "Migration": every store into guest memory is logged while LOG_ALL is acked.
  // Without the bit QEMU refuses to migrate the guest ("vhost lacks VHOST_F_LOG_ALL").
  if (config_.migration) offered_features_ |= feature_bit(feat::kLogAll);
  // Checksum and TCP segmentation offload both ways: the guest's partial-checksum and GSO frames
  // cross the switch whole, and the switch segments/completes them only for a destination that
  // cannot take them. Not UFO (deprecated, no segmenter) and not USO: QEMU 7.2 (its vhost-user
  // feature list) and DPDK 22.11's virtio PMD know no USO bit, so no peer here could use it.
  if (config_.offloads) {
    for (uint32_t bit : {feat::kNetCsum, feat::kNetGuestCsum, feat::kNetHostTso4,
                         feat::kNetHostTso6, feat::kNetHostEcn, feat::kNetGuestTso4,
                         feat::kNetGuestTso6, feat::kNetGuestEcn}) {
      offered_features_ |= feature_bit(bit);
    }
  }
  if (config_.queue_pairs > 1) offered_features_ |= feature_bit(feat::kNetMq);
  if (config_.has_mac) offered_features_ |= feature_bit(feat::kNetMac);
}

VhostUserDevice::~VhostUserDevice() {
  // The listener may already be gone; just release resources.
  for (uint32_t i = 0; i < vring_count_; ++i) vrings_[i].reset();
  mem_.clear();
}

uint64_t VhostUserDevice::offered_protocol_features() noexcept {
  // Not CONFIG: QEMU's virtio-net takes its config space from its own options and warns about a
  // back-end offering it. GET_CONFIG is still answered for frontends that ask.
  // LOG_SHMFD: QEMU refuses to migrate a guest whose vhost-user back-end lacks it.
  return vu::protocol_bit(ProtocolFeature::kMq) | vu::protocol_bit(ProtocolFeature::kLogShmfd) |
         vu::protocol_bit(ProtocolFeature::kRarp) |
         vu::protocol_bit(ProtocolFeature::kReplyAck) |
         vu::protocol_bit(ProtocolFeature::kNetMtu) |
         vu::protocol_bit(ProtocolFeature::kResetDevice) |
         vu::protocol_bit(ProtocolFeature::kConfigureMemSlots) |
         vu::protocol_bit(ProtocolFeature::kStatus);
}

bool VhostUserDevice::reply_ack() const noexcept {
  return (acked_protocol_features_ & vu::protocol_bit(ProtocolFeature::kReplyAck)) != 0;
}

bool VhostUserDevice::mergeable_rx() const noexcept {
  return (acked_features_ & feature_bit(feat::kNetMrgRxbuf)) != 0;
}

uint32_t VhostUserDevice::net_hdr_len() const noexcept {
  bool v1 = (acked_features_ & feature_bit(feat::kVersion1)) != 0;
  return v1 || mergeable_rx() ? virtio::kNetHdrLen : virtio::kNetHdrLen - 2;
}

VirtqFeatures VhostUserDevice::virtq_features() const noexcept {
  VirtqFeatures f;
  f.event_idx = (acked_features_ & feature_bit(feat::kRingEventIdx)) != 0;
  f.indirect = (acked_features_ & feature_bit(feat::kRingIndirectDesc)) != 0;
  f.notify_on_empty = (acked_features_ & feature_bit(feat::kNotifyOnEmpty)) != 0;
  return f;
}

void VhostUserDevice::stop_all_rings() noexcept {
  for (uint32_t i = 0; i < vring_count_; ++i) {
    listener_->vring_detach(i);
    vrings_[i].reset();
  }
}

void VhostUserDevice::reset() noexcept {
  stop_all_rings();
  mem_.clear();
  log_.set_enabled(false);
  log_.unmap();
  acked_features_ = 0;
  acked_protocol_features_ = 0;
  status_ = 0;
  guest_mtu_ = 0;
}

bool VhostUserDevice::valid_index(uint32_t index, std::string* error) const {
  if (index < vring_count_) return true;
  *error = "vring index " + std::to_string(index) + " out of range (device has " +
           std::to_string(vring_count_) + " vrings)";
  return false;
}

bool VhostUserDevice::layout_of(const Vring& v, VirtqLayout* l) const noexcept {
  bool event_idx = virtq_features().event_idx;
  // Without EVENT_IDX the trailing used_event/avail_event fields are not part of the ring.
  uint64_t avail_bytes = virtio::avail_ring_bytes(v.num) - (event_idx ? 0 : 2);
  uint64_t used_bytes = virtio::used_ring_bytes(v.num) - (event_idx ? 0 : 2);
  l->desc = mem_.uva_to_host(v.addr.desc_user_addr, virtio::desc_table_bytes(v.num));
  l->avail = mem_.uva_to_host(v.addr.avail_user_addr, avail_bytes);
  l->used = mem_.uva_to_host(v.addr.used_user_addr, used_bytes);
  l->size = v.num;
  return l->desc && l->avail && l->used;
}

bool VhostUserDevice::packed_layout_of(const Vring& v, PackedLayout* l) const noexcept {
  // virtio 1.1 §2.7: descriptor ring, driver area (driver event suppression, sent as the avail
  // address) and device area (device event suppression, sent as the used address).
  const uint64_t ring_bytes = virtio::packed_desc_ring_bytes(v.num);
  l->desc = mem_.uva_to_host(v.addr.desc_user_addr, ring_bytes);
  l->driver_event = mem_.uva_to_host(v.addr.avail_user_addr, sizeof(virtio::PackedEvent));
  l->device_event = mem_.uva_to_host(v.addr.used_user_addr, sizeof(virtio::PackedEvent));
  l->desc_gpa = mem_.uva_to_gpa(v.addr.desc_user_addr, ring_bytes);
  l->size = v.num;
  return l->desc && l->driver_event && l->device_event && l->desc_gpa != GuestMemory::kNoGpa;
}

bool VhostUserDevice::relocate(Vring& v) noexcept {
  if (v.packed) {
    PackedLayout l;
    return packed_layout_of(v, &l) && v.pvq.relocate(l);
  }
  VirtqLayout l;
  return layout_of(v, &l) && v.vq.relocate(l);
}

bool VhostUserDevice::packed_ring() const noexcept {
  return (acked_features_ & feature_bit(feat::kRingPacked)) != 0;
}

template <typename F>
HandleOutcome VhostUserDevice::change_memory(F&& change, std::string* error) {
  for (uint32_t i = 0; i < vring_count_; ++i) {
    if (vrings_[i].started) listener_->vring_detach(i);
  }
  HandleOutcome out = change();
  for (uint32_t i = 0; i < vring_count_; ++i) {
    Vring& v = vrings_[i];
    if (!v.started) continue;
    // A running ring must stay inside guest memory (QEMU only remaps around it on hotplug).
    if (out == HandleOutcome::kOk && !relocate(v)) {
      *error = "vring " + std::to_string(i) + " no longer inside guest memory";
      out = HandleOutcome::kFatal;
    }
    if (out != HandleOutcome::kOk) {
      v.stop();
      continue;
    }
    listener_->vring_attach(i);
  }
  return out;
}

HandleOutcome VhostUserDevice::handle(const VhostUserMsg& msg, ReceivedFds& fds,
                                      DeviceReply* reply, std::string* error) {
  *reply = DeviceReply{};
  return dispatch(msg, fds, reply, error);
}

HandleOutcome VhostUserDevice::dispatch(const VhostUserMsg& msg, ReceivedFds& fds,
                                        DeviceReply* reply, std::string* error) {
  const auto& p = msg.payload;
  switch (msg.request()) {
    case R::kGetFeatures:
      reply_u64(reply, offered_features_);
      return HandleOutcome::kOk;

    case R::kSetFeatures: {
      uint64_t f = p.u64;
      if (f & ~offered_features_) {
        return fail(error, HandleOutcome::kFatal, msg, "acks features that were not offered");
      }
      acked_features_ = f;
      // vhost-user.rst "Migration": LOG_ALL starts and stops logging. Dropping it (migration
      // done, failed or cancelled) keeps the mapping until the next SET_LOG_BASE or reset.
      log_.set_enabled((f & feature_bit(feat::kLogAll)) != 0);
      VirtqFeatures vf = virtq_features();
      for (uint32_t i = 0; i < vring_count_; ++i) {
        // vhost-user.rst "Ring states": without PROTOCOL_FEATURES rings are enabled at once.
        if (!(f & feature_bit(feat::kVhostUserProtocolFeatures)) && !vrings_[i].enabled) {
          listener_->vring_detach(i);
          vrings_[i].enabled = true;
          listener_->vring_attach(i);
        }
        if (vrings_[i].ready()) vrings_[i].with_ring([&](auto& q) { q.set_features(vf); });
      }
      return HandleOutcome::kOk;
    }

    case R::kGetProtocolFeatures:
      reply_u64(reply, offered_protocol_features());
      return HandleOutcome::kOk;

    case R::kSetProtocolFeatures:
      if (p.u64 & ~offered_protocol_features()) {
        return fail(error, HandleOutcome::kFatal, msg,
                    "acks protocol features that were not offered");
      }
      acked_protocol_features_ = p.u64;
      return HandleOutcome::kOk;

    case R::kSetOwner:
      return HandleOutcome::kOk;

    case R::kResetOwner:
    case R::kResetDevice:
      stop_all_rings();
      acked_features_ = 0;
      log_.set_enabled(false);
      status_ = 0;
      return HandleOutcome::kOk;

    case R::kGetQueueNum:
      // For net devices QEMU compares this with the number of queue pairs.
      reply_u64(reply, config_.queue_pairs);
      return HandleOutcome::kOk;

    case R::kGetMaxMemSlots:
      reply_u64(reply, kMaxMemSlots);
      return HandleOutcome::kOk;

    case R::kSetMemTable:
      return set_mem_table(msg, fds, error);
    case R::kAddMemReg:
      return add_mem_reg(msg, fds, error);
    case R::kRemMemReg:
      return rem_mem_reg(msg, error);

    case R::kSetVringNum: {
      if (!valid_index(p.state.index, error)) return HandleOutcome::kFatal;
      uint32_t n = p.state.num;
      // virtio 1.1 §2.7: a packed ring need not be a power of 2 in size.
      if (packed_ring() ? (n == 0 || n > virtio::kMaxPackedQueueSize)
                        : (n == 0 || n > virtio::kMaxQueueSize || (n & (n - 1)) != 0)) {
        return fail(error, HandleOutcome::kFatal, msg,
                    packed_ring() ? "packed queue size outside 1..32768"
                                  : "queue size not a power of 2 in 1..32768");
      }
      Vring& v = vrings_[p.state.index];
      if (v.started) return fail(error, HandleOutcome::kFatal, msg, "ring is running");
      v.num = n;
      return HandleOutcome::kOk;
    }

    case R::kSetVringBase: {
      if (!valid_index(p.state.index, error)) return HandleOutcome::kFatal;
      Vring& v = vrings_[p.state.index];
      if (v.started) return fail(error, HandleOutcome::kFatal, msg, "ring is running");
      // vhost-user.rst: a packed ring's base carries the avail index and wrap counter in bits
      // 0-15 and (QEMU) the used ones in bits 16-31; the used position is where the avail one
      // is, since no chain is in flight across a stop, so those bits are not needed.
      if (!packed_ring() && p.state.num > 0xffff) {
        return fail(error, HandleOutcome::kFatal, msg, "split ring base above 0xffff");
      }
      v.base = p.state.num;
      return HandleOutcome::kOk;
    }

    case R::kSetVringAddr: {
      if (!valid_index(p.addr.index, error)) return HandleOutcome::kFatal;
      Vring& v = vrings_[p.addr.index];
      v.addr = p.addr;
      v.has_addr = true;
      if (v.started) {
        // A running ring gets SET_VRING_ADDR when logging toggles (vhost-user.rst "Migration":
        // VHOST_VRING_F_LOG): re-translate in place, keeping every index.
        listener_->vring_detach(p.addr.index);
        if (!relocate(v)) {
          v.stop();
          return fail(error, HandleOutcome::kFatal, msg, "ring outside guest memory");
        }
        apply_log(v);
        listener_->vring_attach(p.addr.index);
      }
      return HandleOutcome::kOk;
    }

    case R::kGetVringBase: {
      if (!valid_index(p.state.index, error)) return HandleOutcome::kFatal;
      uint32_t i = p.state.index;
      Vring& v = vrings_[i];
      // vhost-user.rst: GET_VRING_BASE stops the ring; the reply is where to resume.
      listener_->vring_detach(i);
      if (v.ready()) {
        if (v.packed) {
          v.base = v.pvq.vring_base();
          v.stop_used = PackedVirtq::encode(v.pvq.used_pos());
        } else {
          v.base = v.vq.last_avail_idx();
          v.stop_used = v.vq.used_idx();
        }
      }
      v.stop();
      reply->send = true;
      reply->size = sizeof(vu::VringState);
      reply->payload.state = {i, v.base};
      return HandleOutcome::kOk;
    }

    case R::kSetVringKick:
      return set_vring_kick(msg, fds, error);

    case R::kSetVringCall: {
      uint32_t i = static_cast<uint32_t>(p.u64 & vu::kVringIndexMask);
      if (!valid_index(i, error)) return HandleOutcome::kFatal;
      bool nofd = (p.u64 & vu::kVringNofdMask) != 0;
      vrings_[i].set_call(nofd ? -1 : fds.take(0));
      return HandleOutcome::kOk;
    }

    case R::kSetVringErr: {
      uint32_t i = static_cast<uint32_t>(p.u64 & vu::kVringIndexMask);
      if (!valid_index(i, error)) return HandleOutcome::kFatal;
      // We never report ring errors through it; the reader closes the fd.
      return HandleOutcome::kOk;
    }

    case R::kSetVringEnable: {
      if (!valid_index(p.state.index, error)) return HandleOutcome::kFatal;
      if (p.state.num > 1) {
        return fail(error, HandleOutcome::kFatal, msg, "enable value is neither 0 nor 1");
      }
      uint32_t i = p.state.index;
      listener_->vring_detach(i);
      vrings_[i].enabled = p.state.num == 1;
      listener_->vring_attach(i);
      return HandleOutcome::kOk;
    }

    case R::kSendRarp: {
      uint8_t mac[6];
      std::memcpy(mac, p.raw, sizeof mac);
      listener_->announce(mac);
      return HandleOutcome::kOk;
    }

    case R::kNetSetMtu: {
      uint64_t mtu = p.u64;
      if (mtu < 68 || mtu > 65535) {
        return fail(error, HandleOutcome::kRejected, msg, "MTU outside 68..65535");
      }
      guest_mtu_ = static_cast<uint16_t>(mtu);
      return HandleOutcome::kOk;
    }

    case R::kGetConfig:
      return get_config(msg, reply, error);
    case R::kSetConfig:
      return fail(error, HandleOutcome::kRejected, msg, "virtio-net config space is read-only");

    case R::kSetStatus:
      if (p.u64 > 0xff) return fail(error, HandleOutcome::kRejected, msg, "status above 0xff");
      status_ = static_cast<uint8_t>(p.u64);
      return HandleOutcome::kOk;
    case R::kGetStatus:
      reply_u64(reply, status_);
      return HandleOutcome::kOk;

    case R::kSetLogBase:
      return set_log_base(msg, fds, reply, error);
    case R::kSetLogFd:
      // vhost-user.rst: an optional eventfd to tell the front-end the log changed. QEMU reads
      // the whole log on every sync, so we never signal it; the reader closes the fd.
      return HandleOutcome::kOk;

    default:
      return fail(error, HandleOutcome::kRejected, msg, "request not supported");
  }
}

HandleOutcome VhostUserDevice::set_mem_table(const VhostUserMsg& msg, ReceivedFds& fds,
                                             std::string* error) {
  const vu::MemoryTable& t = msg.payload.mem;
  return change_memory(
      [&] {
        mem_.clear();
        for (uint32_t k = 0; k < t.num_regions; ++k) {
          int fd = fds.take(k);
          Status s = mem_.add_region(t.regions[k], fd);
          ::close(fd);
          if (!s) {
            mem_.clear();
            *error = std::string("SET_MEM_TABLE: ") + s.to_string();
            return HandleOutcome::kFatal;
          }
        }
        return HandleOutcome::kOk;
      },
      error);
}

HandleOutcome VhostUserDevice::add_mem_reg(const VhostUserMsg& msg, ReceivedFds& fds,
                                           std::string* error) {
  return change_memory(
      [&] {
        int fd = fds.take(0);
        Status s = mem_.add_region(msg.payload.mem_reg.region, fd);
        ::close(fd);
        if (!s) {
          *error = std::string("ADD_MEM_REG: ") + s.to_string();
          return HandleOutcome::kFatal;
        }
        return HandleOutcome::kOk;
      },
      error);
}

HandleOutcome VhostUserDevice::rem_mem_reg(const VhostUserMsg& msg, std::string* error) {
  return change_memory(
      [&] {
        if (!mem_.remove_region(msg.payload.mem_reg.region)) {
          *error = "REM_MEM_REG: no such region";
          return HandleOutcome::kRejected;
        }
        return HandleOutcome::kOk;
      },
      error);
}

HandleOutcome VhostUserDevice::set_vring_kick(const VhostUserMsg& msg, ReceivedFds& fds,
                                              std::string* error) {
  uint64_t v64 = msg.payload.u64;
  uint32_t i = static_cast<uint32_t>(v64 & vu::kVringIndexMask);
  if (!valid_index(i, error)) return HandleOutcome::kFatal;
  bool nofd = (v64 & vu::kVringNofdMask) != 0;
  Vring& v = vrings_[i];
  listener_->vring_detach(i);
  v.set_kick(nofd ? -1 : fds.take(0), nofd);
  if (!v.started) {
    // vhost-user.rst "Ring states": the ring starts when SET_VRING_KICK arrives.
    if (v.num == 0 || !v.has_addr) {
      return fail(error, HandleOutcome::kFatal, msg, "ring size or addresses not set");
    }
    if (packed_ring()) {
      PackedLayout l;
      if (!packed_layout_of(v, &l)) {
        return fail(error, HandleOutcome::kFatal, msg, "ring addresses outside guest memory");
      }
      PackedPos base = PackedVirtq::decode(static_cast<uint16_t>(v.base));
      if (base.idx >= v.num) {
        return fail(error, HandleOutcome::kFatal, msg, "packed ring base outside the ring");
      }
      if (!v.pvq.setup(&mem_, l, base, virtq_features())) {
        return fail(error, HandleOutcome::kFatal, msg, "ring misaligned");
      }
      v.packed = true;
    } else {
      VirtqLayout l;
      if (!layout_of(v, &l)) {
        return fail(error, HandleOutcome::kFatal, msg, "ring addresses outside guest memory");
      }
      if (!v.vq.setup(&mem_, l, static_cast<uint16_t>(v.base), virtq_features())) {
        return fail(error, HandleOutcome::kFatal, msg, "ring misaligned");
      }
    }
    apply_log(v);
    v.started = true;
    if (!(acked_features_ & feature_bit(feat::kVhostUserProtocolFeatures))) v.enabled = true;
  }
  listener_->vring_attach(i);
  return HandleOutcome::kOk;
}

void VhostUserDevice::apply_log(Vring& v) noexcept {
  const bool log_ring = (v.addr.flags & vu::kVringAddrFlagLog) != 0;
  if (v.packed) {
    // QEMU gives a packed ring's device area as log_guest_addr; the used descriptors are logged
    // at the descriptor ring's own guest address.
    v.pvq.set_log(&log_, log_ring, v.addr.log_guest_addr);
  } else {
    v.vq.set_log(&log_, log_ring, v.addr.log_guest_addr);
  }
}

HandleOutcome VhostUserDevice::set_log_base(const VhostUserMsg& msg, ReceivedFds& fds,
                                            DeviceReply* reply, std::string* error) {
  if (!(acked_protocol_features_ & vu::protocol_bit(ProtocolFeature::kLogShmfd))) {
    return fail(error, HandleOutcome::kFatal, msg, "LOG_SHMFD was not negotiated");
  }
  const vu::LogDescription& d = msg.payload.log;
  int fd = fds.take(0);
  Status s = log_.map(fd, d.mmap_size, d.mmap_offset);
  ::close(fd);
  if (!s) {
    // The old log is gone too: nothing written from now on could be logged correctly.
    log_.unmap();
    return fail(error, HandleOutcome::kFatal, msg, s.to_string().c_str());
  }
  // vhost-user.rst "Communication": with LOG_SHMFD, SET_LOG_BASE is answered (QEMU waits for
  // it); the reply carries no payload.
  reply->send = true;
  reply->size = 0;
  return HandleOutcome::kOk;
}

HandleOutcome VhostUserDevice::get_config(const VhostUserMsg& msg, DeviceReply* reply,
                                          std::string* error) {
  const vu::ConfigHeader& h = msg.payload.config.hdr;
  virtio::VirtioNetConfig cfg{};
  std::memcpy(cfg.mac, config_.mac.data(), 6);
  cfg.status = virtio::kNetSLinkUp;
  cfg.max_virtqueue_pairs = static_cast<uint16_t>(config_.queue_pairs);
  cfg.mtu = config_.mtu;
  reply->send = true;
  if (h.offset > sizeof cfg || h.size > sizeof cfg - h.offset) {
    // vhost-user.rst GET_CONFIG: a failed request is answered with an empty payload.
    reply->size = 0;
    return fail(error, HandleOutcome::kRejected, msg, "range outside the config space");
  }
  vu::ConfigHeader out = h;
  std::memcpy(reply->payload.raw, &out, sizeof out);
  std::memcpy(reply->payload.raw + sizeof out, reinterpret_cast<const uint8_t*>(&cfg) + h.offset,
              h.size);
  reply->size = static_cast<uint32_t>(sizeof out + h.size);
  return HandleOutcome::kOk;
}

}  // namespace uvs::netback
