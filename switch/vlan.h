// SPDX-License-Identifier: MIT
// Port VLAN membership (802.1Q access/trunk): ingress classification and egress tag rewriting.
#pragma once

#include <sys/uio.h>

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "port/frame.h"
#include "switch/eth.h"

namespace uvs::bridge {

/// How a port takes part in VLANs. The daemon converts config::VlanConfig into this (the switch
/// does not depend on the config library).
enum class VlanMode {
  kAccess,  ///< frames on the wire are untagged and all belong to `access_vlan`
  kTrunk,   ///< frames on the wire carry 802.1Q tags; only `trunk` VLANs pass
};

/// A port's VLAN settings as the bridge's user gives them.
struct VlanConfig {
  VlanMode mode = VlanMode::kAccess;
  uint16_t access_vlan = kDefaultVlan;  ///< kAccess only
  std::vector<uint16_t> trunk;          ///< kTrunk only: allowed VIDs (any order, duplicates ok)
  /// kTrunk only: untagged (and priority-tagged) ingress frames belong to this VLAN and its frames
  /// leave untagged (the "native VLAN"); 0 = none, untagged ingress is dropped. It is a member
  /// whether or not it is listed in `trunk`.
  uint16_t native_vlan = 0;
};

/// Why an ingress frame was refused (kAccept: it was not).
enum class VlanVerdict {
  kAccept,
  kRunt,             ///< shorter than its Ethernet (or 802.1Q) header
  kTaggedOnAccess,   ///< a VID-tagged frame on an access port
  kNotAllowed,       ///< tagged with a VID the trunk does not carry (or 4095)
  kUntaggedOnTrunk,  ///< untagged/priority-tagged on a trunk without a native VLAN
};

/// What the frame looked like on the wire.
enum class WireTag : uint8_t {
  kNone,      ///< no 802.1Q tag
  kVid,       ///< a tag whose VID is the frame's VLAN
  kPriority,  ///< a priority tag (VID 0, 802.1Q-2018 6.9.1): classified as untagged
};

/// The result of ingress classification.
struct IngressClass {
  VlanVerdict verdict = VlanVerdict::kAccept;
  uint16_t vid = 0;        ///< the frame's VLAN when accepted
  WireTag tag = WireTag::kNone;
  uint16_t tci_prio = 0;   ///< PCP and DEI bits of the ingress tag (TCI & 0xf000), kept on egress
};

/// How a frame leaves a port.
enum class EgressForm { kUntagged, kTagged };

/// Header bytes a rewritten egress frame starts with (MACs + optional tag).
struct EgressHeader {
  uint8_t bytes[kEthHdrLen + kVlanTagLen - 2];  // 12 MAC bytes + 4 tag bytes
};

/// A port's validated VLAN membership, in the form the data path reads (a 4096-bit set).
class PortVlan {
 public:
  /// Access port of the default VLAN.
  PortVlan();
  /// Validates `cfg`: VIDs must be 1..4094, a trunk needs at least one VID or a native VLAN.
  /// Returns nullopt and sets `*error` (when given) to a readable message otherwise.
  static std::optional<PortVlan> make(const VlanConfig& cfg, std::string* error = nullptr);

  VlanMode mode() const noexcept { return mode_; }
  /// Access VLAN, or the trunk's native VLAN (0 when none).
  uint16_t pvid() const noexcept { return pvid_; }
  /// True when frames of `vid` may enter and leave this port.
  bool member(uint16_t vid) const noexcept { return vid <= kMaxVid && members_.test(vid); }

  /// Classifies a frame arriving on this port. `hdr` holds the frame's first min(len, 18) bytes.
  /// Never fails; bad frames get a non-kAccept verdict.
  IngressClass classify(const uint8_t* hdr, uint32_t len) const noexcept;

  /// How a frame of `vid` leaves this port; nullopt when the port is not a member of `vid`.
  std::optional<EgressForm> egress_form(uint16_t vid) const noexcept;

 private:
  VlanMode mode_ = VlanMode::kAccess;
  uint16_t pvid_ = kDefaultVlan;
  std::bitset<kMaxVid + 1> members_;
};

/// Builds the view of `in` that leaves a port in `form`, without copying payload: either `in`
/// itself (no change needed) or a new iovec list in `iov` = [rewritten header in `hdr`] +
/// `in`'s segments past its original header. `in_hdr` holds the frame's first bytes (as given to
/// classify) and `cls` its accepted classification. Adds a tag (untagged -> tagged, PCP/DEI 0),
/// removes it (tagged -> untagged), rewrites a priority tag's VID, or keeps the frame. Returns
/// the number of `iov` entries used (0 when `*out` is `in` itself), or -1 when `iov_cap` is too
/// small. The view stays valid while `in`'s segments, `hdr` and `iov` do. Never allocates.
int make_egress_view(const port::Frame& in, const uint8_t* in_hdr, const IngressClass& cls,
                     EgressForm form, EgressHeader* hdr, iovec* iov, size_t iov_cap,
                     port::Frame* out) noexcept;

}  // namespace uvs::bridge
