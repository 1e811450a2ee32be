// SPDX-License-Identifier: MIT
// DpdkPort: one DPDK ethdev (PCI NIC or vdev) as a uvs::port::Port, RX polled from its loop.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eventloop/event_loop.h"
#include "eventloop/poller.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "port/port.h"

struct rte_mempool;
struct rte_mbuf;

namespace uvs::netback {

/// Options of one DPDK port (config: `dpdk,id=,devargs=DEVARGS[,queues=N]`).
struct DpdkPortOptions {
  std::string name = "dpdk0";  ///< for logs and stats
  /// What rte_dev_probe() takes: a PCI address ("0000:01:00.0") or a virtual device with its
  /// arguments ("net_af_packet0,iface=veth0", "net_memif0,role=server,socket=/run/m.sock").
  std::string devargs;
  uint16_t queues = 1;  ///< RX and TX queue pairs; with more than one, RSS spreads RX
  /// Longest idle re-check period of the RX queues when the driver has no RX interrupts: the
  /// added latency of the first frame after a silence.
  int64_t idle_max_ns = 1'000'000;
};

/// Counters of a DPDK port. "in" is device → our sink; "out" is send_burst → device. The
/// device's own counters (rte_eth_stats) are in `dev_*`.
struct DpdkPortStats {
  uint64_t in_frames = 0;          ///< frames received and handed to the sink
  uint64_t in_bytes = 0;
  uint64_t in_drop_no_sink = 0;    ///< received while no sink was set
  uint64_t in_drop_bad_frame = 0;  ///< shorter than an Ethernet header or too many segments
  uint64_t out_frames = 0;         ///< frames the device accepted for transmission
  uint64_t out_bytes = 0;
  uint64_t out_drop_full = 0;      ///< refused: the TX queue was full
  uint64_t out_drop_no_mbuf = 0;   ///< refused: the mbuf pool was empty
  uint64_t out_drop_too_big = 0;   ///< taken and dropped: longer than the device's frame limit
  uint64_t out_drop_not_ready = 0; ///< refused: the port is not started
  uint64_t dev_ipackets = 0;       ///< rte_eth_stats: received by the device
  uint64_t dev_opackets = 0;       ///< rte_eth_stats: sent by the device
  uint64_t dev_ibytes = 0;
  uint64_t dev_obytes = 0;
  uint64_t dev_imissed = 0;        ///< dropped by the device: RX queue full
  uint64_t dev_ierrors = 0;
  uint64_t dev_oerrors = 0;
  uint64_t dev_rx_nombuf = 0;      ///< RX mbuf allocation failures
  bool rx_interrupts = false;      ///< the queues sleep on RX interrupts instead of re-checks
};

/// A DPDK ethdev. The EAL must be initialised first (init_dpdk_eal). Every method runs on the
/// loop thread given at construction (or before that loop first runs). The port takes and gives
/// plain frames: offload_caps() is 0, so the switch segments and checksums before send_burst.
class DpdkPort final : public port::Port {
 public:
  DpdkPort(ev::EventLoop& loop, DpdkPortOptions options);
  ~DpdkPort() override;
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  /// Probes `devargs` (hot-plug; a device the EAL already probed is reused), configures
  /// `queues` RX/TX queues with RSS, starts it in promiscuous mode and starts polling. Returns
  /// kInvalidOption for a bad queue count, kDevice with DPDK's reason when the device cannot be
  /// probed, found, configured or started (the message names devargs= or queues=).
  Status start();

  /// Copies each frame into an mbuf and hands the burst to one rte_eth_tx_burst. Returns how
  /// many frames were taken; frames longer than the device takes are taken and dropped. Never
  /// blocks, never allocates from the heap.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  port::PortState state() const noexcept override;

  /// Snapshot of the counters, the device's own included. Loop thread only.
  DpdkPortStats stats() const noexcept;
  /// The ethdev port id (valid after start()).
  uint16_t port_id() const noexcept { return port_id_; }
  /// The driver's name ("net_af_packet", "net_memif", ...), after start().
  const std::string& driver() const noexcept { return driver_; }

 private:
  class RxPoller;
  class IrqHandler;

  /// One RX burst from each queue; returns whether any frame arrived.
  bool poll_rx() noexcept;
  bool enter_interrupt_mode() noexcept;
  void exit_interrupt_mode() noexcept;
  Status fail_start(const std::string& what, int err);
  void stop_device() noexcept;

  ev::EventLoop& loop_;
  DpdkPortOptions opts_;
  port::FrameSink* sink_ = nullptr;
  uint16_t port_id_ = 0;
  std::string driver_;
  bool started_ = false;
  bool probed_by_us_ = false;
  uint32_t max_frame_ = 0;  // longest frame one TX mbuf chain may carry
  uint16_t tx_rr_ = 0;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<RxPoller> poller_;
  ev::PollerRegistration poller_reg_;
  std::unique_ptr<IrqHandler[]> irq_handlers_;
  std::unique_ptr<ev::FdRegistration[]> irq_regs_;
  bool irq_mode_ = false;
  LogRateLimit rx_log_;
  DpdkPortStats stats_;
};

}  // namespace uvs::netback
