// SPDX-License-Identifier: MIT
// VhostUserDevice: the vhost-user protocol state machine of a virtio-net device (features,
// memory table, vring configuration), independent of sockets and of the event loop.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "netback/vhost/dirty_log.h"
#include "netback/vhost/guest_memory.h"
#include "netback/vhost/vhost_user_msg.h"
#include "netback/vhost/vhost_user_proto.h"
#include "netback/vhost/vring.h"

namespace uvs::netback {

/// Most queue pairs a port can have (vring index is 8 bits; we keep a 64-bit pair mask).
inline constexpr uint32_t kMaxQueuePairs = 64;

/// Static properties of the device we emulate.
struct NetDeviceConfig {
  uint32_t queue_pairs = 1;          ///< 1 .. kMaxQueuePairs
  uint16_t mtu = 1500;               ///< advertised with VIRTIO_NET_F_MTU
  bool has_mac = false;              ///< offer VIRTIO_NET_F_MAC with `mac` in the config space
  std::array<uint8_t, 6> mac{};
  bool offloads = false;             ///< offer CSUM/GUEST_CSUM, HOST_/GUEST_TSO4/TSO6/ECN
  bool migration = true;             ///< offer VHOST_F_LOG_ALL (QEMU blocks migration without it)
};

/// What the device tells its owner (the port).
class VhostUserDeviceListener {
 public:
  virtual ~VhostUserDeviceListener() = default;
  /// Ring `index` is about to change (fds, started/enabled, memory): stop using it, unregister
  /// its kick fd now, before the fd is closed.
  virtual void vring_detach(uint32_t index) noexcept = 0;
  /// Ring `index` changed; start using it if running().
  virtual void vring_attach(uint32_t index) noexcept = 0;
  /// SEND_RARP: announce `mac` (the guest's) to the network after a migration.
  virtual void announce(const uint8_t mac[6]) noexcept = 0;
};

/// How a message was handled.
enum class HandleOutcome {
  kOk,
  kRejected,  ///< well-formed but refused or unsupported: error ack, log, keep the connection
  kFatal,     ///< the frontend broke the protocol: drop the connection, mark the port broken
};

/// An explicit reply for GET_* requests (sent whether or not NEED_REPLY is set).
struct DeviceReply {
  bool send = false;
  uint32_t size = 0;
  union {
    uint64_t u64;
    vu::VringState state;
    uint8_t raw[vu::kMaxPayloadSize];
  } payload{};
};

/// The protocol state machine for one frontend connection. Loop thread only. Never touches the
/// socket: the port feeds it parsed messages and sends the replies it produces.
class VhostUserDevice {
 public:
  VhostUserDevice(const NetDeviceConfig& config, VhostUserDeviceListener* listener);
  ~VhostUserDevice();
  VhostUserDevice(const VhostUserDevice&) = delete;
  VhostUserDevice& operator=(const VhostUserDevice&) = delete;

  /// Handles one parsed message. Takes the fds it keeps from `fds` (the rest are closed by the
  /// caller's reader). Fills `*reply` for requests with an explicit reply. On kRejected/kFatal
  /// `*error` says why (with the request's name). Control path (may allocate on errors).
  HandleOutcome handle(const VhostUserMsg& msg, ReceivedFds& fds, DeviceReply* reply,
                       std::string* error);

  /// Back to the state of a fresh connection: rings stopped (listener told), fds closed, memory
  /// unmapped, features cleared.
  void reset() noexcept;

  /// Virtio feature bits we offer (GET_FEATURES): VERSION_1, MRG_RXBUF, EVENT_IDX,
  /// INDIRECT_DESC, RING_PACKED, MTU, STATUS, NOTIFY_ON_EMPTY, ANY_LAYOUT, PROTOCOL_FEATURES, LOG_ALL, MQ
  /// with more than one pair, MAC when configured, and with `offloads` CSUM, GUEST_CSUM,
  /// HOST_TSO4/6, HOST_ECN, GUEST_TSO4/6, GUEST_ECN.
  uint64_t offered_features() const noexcept { return offered_features_; }
  /// Protocol features we offer (GET_PROTOCOL_FEATURES): MQ, LOG_SHMFD, RARP, REPLY_ACK,
  /// NET_MTU, RESET_DEVICE, CONFIGURE_MEM_SLOTS, STATUS.
  static uint64_t offered_protocol_features() noexcept;
  /// What the frontend acked with SET_FEATURES / SET_PROTOCOL_FEATURES (0 before).
  uint64_t acked_features() const noexcept { return acked_features_; }
  uint64_t acked_protocol_features() const noexcept { return acked_protocol_features_; }
  /// REPLY_ACK negotiated: NEED_REPLY messages get an ack.
  bool reply_ack() const noexcept;
  /// MRG_RXBUF negotiated.
  bool mergeable_rx() const noexcept;
  /// Bytes of virtio-net header per packet: 12 with VERSION_1 or MRG_RXBUF, else 10 (§5.1.6).
  uint32_t net_hdr_len() const noexcept;
  /// Device status byte from SET_STATUS (virtio §2.1), 0 before.
  uint8_t status() const noexcept { return status_; }
  /// MTU the frontend set with NET_SET_MTU, 0 if none.
  uint16_t guest_mtu() const noexcept { return guest_mtu_; }

  /// Number of vrings: 2 per queue pair (RX 2p, TX 2p+1).
  uint32_t vring_count() const noexcept { return vring_count_; }
  /// Vring `i` (< vring_count(); not checked).
  Vring& vring(uint32_t i) noexcept { return vrings_[i]; }
  const Vring& vring(uint32_t i) const noexcept { return vrings_[i]; }
  /// The mapped guest memory of the current connection.
  const GuestMemory& memory() const noexcept { return mem_; }
  /// The migration dirty log (SET_LOG_BASE); active() while VHOST_F_LOG_ALL is acked.
  const DirtyLog& dirty_log() const noexcept { return log_; }

 private:
  HandleOutcome dispatch(const VhostUserMsg& msg, ReceivedFds& fds, DeviceReply* reply,
                         std::string* error);
  HandleOutcome set_mem_table(const VhostUserMsg& msg, ReceivedFds& fds, std::string* error);
  HandleOutcome add_mem_reg(const VhostUserMsg& msg, ReceivedFds& fds, std::string* error);
  HandleOutcome rem_mem_reg(const VhostUserMsg& msg, std::string* error);
  HandleOutcome set_vring_kick(const VhostUserMsg& msg, ReceivedFds& fds, std::string* error);
  HandleOutcome get_config(const VhostUserMsg& msg, DeviceReply* reply, std::string* error);
  HandleOutcome set_log_base(const VhostUserMsg& msg, ReceivedFds& fds, DeviceReply* reply,
                             std::string* error);
  /// Points ring `v`'s stores at the dirty log as its SET_VRING_ADDR flags say.
  void apply_log(Vring& v) noexcept;
  bool valid_index(uint32_t index, std::string* error) const;
  /// Translates ring `i`'s addresses; false if outside guest memory.
  bool layout_of(const Vring& v, VirtqLayout* layout) const noexcept;
  bool packed_layout_of(const Vring& v, PackedLayout* layout) const noexcept;
  /// Re-translates a started ring in its layout, keeping its positions; false if it left guest
  /// memory.
  bool relocate(Vring& v) noexcept;
  /// VIRTIO_F_RING_PACKED acked: rings started from now on are packed.
  bool packed_ring() const noexcept;
  VirtqFeatures virtq_features() const noexcept;
  /// Memory changed: detach every started ring, run `change`, re-translate them, attach.
  template <typename F>
  HandleOutcome change_memory(F&& change, std::string* error);
  void stop_all_rings() noexcept;

  NetDeviceConfig config_;
  VhostUserDeviceListener* listener_;
  uint64_t offered_features_ = 0;
  uint64_t acked_features_ = 0;
  uint64_t acked_protocol_features_ = 0;
  uint8_t status_ = 0;
  uint16_t guest_mtu_ = 0;
  GuestMemory mem_;
  DirtyLog log_;  // before vrings_: the rings point at it
  std::unique_ptr<Vring[]> vrings_;
  uint32_t vring_count_ = 0;
};

}  // namespace uvs::netback
