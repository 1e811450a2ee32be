// SPDX-License-Identifier: MIT
// DpdkPort: probe and configure an ethdev, RX bursts from a Poller (or RX interrupts), TX bursts.
#include "netback/dpdk/dpdk_port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_epoll.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "netback/dpdk/dpdk_eal.h"

namespace uvs::netback {
namespace {

constexpr uint16_t kRingSize = 1024;  // RX and TX descriptors per queue, adjusted to the device
constexpr uint32_t kMaxRxSegs = 8;    // a received frame in more mbufs than this is dropped
constexpr uint16_t kMaxQueues = 64;
constexpr unsigned kPoolCache = 256;

/// The part of devargs before its first comma: the device name DPDK registers.
std::string device_name(const std::string& devargs) {
  return devargs.substr(0, devargs.find(','));
}

/// Pool names must be unique per process and shorter than RTE_MEMPOOL_NAMESIZE.
std::string pool_name() {
  static unsigned counter = 0;
  return "uvs_dpdk_" + std::to_string(counter++);
}

/// Copies `frame` into `m`, chaining more mbufs from `pool` when it does not fit one.
bool fill_mbuf(rte_mbuf* m, rte_mempool* pool, const port::Frame& frame) noexcept {
  size_t off = 0;
  rte_mbuf* last = m;
  while (off < frame.len) {
    if (off > 0) {
      rte_mbuf* seg = rte_pktmbuf_alloc(pool);
      if (!seg) return false;
      last->next = seg;
      ++m->nb_segs;
      last = seg;
    }
    const size_t room = rte_pktmbuf_tailroom(last);
    const size_t take = std::min<size_t>(room, frame.len - off);
    frame.copy_out(off, rte_pktmbuf_mtod(last, uint8_t*), take);
    last->data_len = static_cast<uint16_t>(take);
    off += take;
  }
  m->pkt_len = frame.len;
  return true;
}

}  // namespace

/// The RX queues as a loop Poller: bursts while traffic flows, interrupt mode when the driver
/// supports it, else the loop's bounded idle re-check.
class DpdkPort::RxPoller final : public ev::Poller {
 public:
  explicit RxPoller(DpdkPort* port) : port_(port) {}
  bool poll() override { return port_->poll_rx(); }
  bool try_enter_interrupt_mode() override { return port_->enter_interrupt_mode(); }
  void exit_interrupt_mode() override { port_->exit_interrupt_mode(); }

 private:
  DpdkPort* port_;
};

/// The epoll fd DPDK's RX interrupts are delivered to (rte_eth_dev_rx_intr_ctl_q), watched by
/// our loop. rte_epoll_wait consumes each event the way the driver's fd needs (an eventfd
/// counter read, nothing for a tap fd whose readiness is the frame itself).
class DpdkPort::IrqHandler final : public ev::FdHandler {
 public:
  int epfd = -1;
  ~IrqHandler() override {
    if (epfd >= 0) ::close(epfd);
  }
  void on_readable() override {
    rte_epoll_event ev[kMaxQueues];
    (void)rte_epoll_wait(epfd, ev, kMaxQueues, 0);
  }
};

DpdkPort::DpdkPort(ev::EventLoop& loop, DpdkPortOptions options)
    : loop_(loop), opts_(std::move(options)) {}

DpdkPort::~DpdkPort() {
  stop_device();
}

Status DpdkPort::fail_start(const std::string& what, int err) {
  std::string msg = opts_.name + ": " + what;
  if (err != 0) msg += std::string(": ") + rte_strerror(err);
  stop_device();
  return Status::fail(NetbackError::kDevice, msg);
}

void DpdkPort::stop_device() noexcept {
  poller_reg_.reset();
  if (irq_regs_) irq_regs_[0].reset();
  irq_regs_.reset();
  irq_handlers_.reset();
  if (started_) {
    (void)rte_eth_dev_stop(port_id_);
    started_ = false;
  }
  if (probed_by_us_) {
    // Hot-unplug what start() plugged, so the same devargs can be added again later.
    rte_eth_dev_info info;
    rte_device* dev = rte_eth_dev_info_get(port_id_, &info) == 0 ? info.device : nullptr;
    (void)rte_eth_dev_close(port_id_);
    if (dev) (void)rte_dev_remove(dev);
    probed_by_us_ = false;
  }
  if (pool_) {
    rte_mempool_free(pool_);
    pool_ = nullptr;
  }
}

Status DpdkPort::start() {
  if (started_) return Status::fail(NetbackError::kInvalidOption, opts_.name + ": already started");
  if (!dpdk_eal_ready()) {
    return Status::fail(NetbackError::kDevice, opts_.name + ": DPDK is not initialised");
  }
  if (opts_.queues < 1 || opts_.queues > kMaxQueues) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": queues=" + std::to_string(opts_.queues) + ": must be 1.." +
                            std::to_string(kMaxQueues));
  }
  const std::string dev = device_name(opts_.devargs);
  const std::string where = "devargs=" + opts_.devargs;
  int rc = rte_dev_probe(opts_.devargs.c_str());
  if (rc == 0) {
    probed_by_us_ = true;
  } else if (rc != -EEXIST) {
    return fail_start(where + ": DPDK cannot probe this device", -rc);
  }
  if (rte_eth_dev_get_port_by_name(dev.c_str(), &port_id_) != 0) {
    // A PCI device may be named differently from how devargs spelt it ("01:00.0"): match it.
    rte_dev_iterator it;
    bool found = false;
    if (rte_eth_iterator_init(&it, dev.c_str()) == 0) {
      const uint16_t id = rte_eth_iterator_next(&it);
      if (id != RTE_MAX_ETHPORTS) {
        port_id_ = id;
        found = true;
      }
      rte_eth_iterator_cleanup(&it);
    }
    if (!found) return fail_start(where + ": no DPDK ethdev named " + dev, 0);
  }

  rte_eth_dev_info info;
  if ((rc = rte_eth_dev_info_get(port_id_, &info)) != 0) return fail_start(where, -rc);
  driver_ = info.driver_name ? info.driver_name : "";
  if (opts_.queues > info.max_rx_queues || opts_.queues > info.max_tx_queues) {
    return fail_start("queues=" + std::to_string(opts_.queues) + ": " + driver_ + " has at most " +
                          std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)),
                      0);
  }

  rte_eth_conf conf{};
  if (opts_.queues > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  const bool multi_seg = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
  if (multi_seg) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  // RX interrupts let an idle port sleep; drivers without them refuse the configuration.
  conf.intr_conf.rxq = 1;
  rc = rte_eth_dev_configure(port_id_, opts_.queues, opts_.queues, &conf);
  bool want_irq = rc == 0;
  if (rc != 0) {
    conf.intr_conf.rxq = 0;
    rc = rte_eth_dev_configure(port_id_, opts_.queues, opts_.queues, &conf);
  }
  if (rc != 0) return fail_start(where + ": cannot configure " + driver_, -rc);

  uint16_t nb_rxd = kRingSize, nb_txd = kRingSize;
  (void)rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &nb_rxd, &nb_txd);
  const int socket = rte_eth_dev_socket_id(port_id_);
  const unsigned n_mbufs =
      opts_.queues * (nb_rxd + nb_txd + 2 * port::kMaxBurst + kPoolCache) + 1024;
  pool_ = rte_pktmbuf_pool_create(pool_name().c_str(), n_mbufs, kPoolCache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool_) return fail_start("cannot create an mbuf pool (EAL memory, -m)", rte_errno);
  for (uint16_t q = 0; q < opts_.queues; ++q) {
    if ((rc = rte_eth_rx_queue_setup(port_id_, q, nb_rxd, socket, nullptr, pool_)) != 0) {
      return fail_start(where + ": RX queue setup", -rc);
    }
    if ((rc = rte_eth_tx_queue_setup(port_id_, q, nb_txd, socket, nullptr)) != 0) {
      return fail_start(where + ": TX queue setup", -rc);
    }
  }
  if ((rc = rte_eth_dev_start(port_id_)) != 0) return fail_start(where + ": cannot start", -rc);
  started_ = true;
  // A switch port receives frames for every MAC behind it.
  rc = rte_eth_promiscuous_enable(port_id_);
  if (rc != 0 && rc != -ENOTSUP) {
    log_port(LogLevel::kWarn, opts_.name, "cannot enable promiscuous mode: %s", rte_strerror(-rc));
  }
  max_frame_ = multi_seg ? port::kMaxFrameLen
                         : rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM;

  // Interrupt mode must re-check the queues after arming (see enter_interrupt_mode), which
  // needs rte_eth_rx_queue_count: without it a frame that raced with the arming could wait for
  // the next one, so such drivers keep the timed re-checks.
  if (want_irq && rte_eth_rx_queue_count(port_id_, 0) < 0) want_irq = false;
  if (want_irq) {
    auto h = std::make_unique<IrqHandler[]>(1);
    h[0].epfd = epoll_create1(EPOLL_CLOEXEC);
    bool ok = h[0].epfd >= 0;
    for (uint16_t q = 0; ok && q < opts_.queues; ++q) {
      ok = rte_eth_dev_rx_intr_ctl_q(port_id_, q, h[0].epfd, RTE_INTR_EVENT_ADD, nullptr) == 0;
    }
    if (ok) {
      irq_handlers_ = std::move(h);
      irq_regs_ = std::make_unique<ev::FdRegistration[]>(1);
      irq_regs_[0] = loop_.add_fd(irq_handlers_[0].epfd, ev::Events::kRead, &irq_handlers_[0]);
      stats_.rx_interrupts = irq_regs_[0].valid();
    }
  }

  poller_ = std::make_unique<RxPoller>(this);
  ev::PollerOptions po;
  po.idle_max_ns = opts_.idle_max_ns;
  poller_reg_ = loop_.add_poller(poller_.get(), po);
  log_port(LogLevel::kInfo, opts_.name, "DPDK port %u (%s), %u queue(s), %s when idle", port_id_,
           driver_.c_str(), opts_.queues,
           stats_.rx_interrupts ? "RX interrupts" : "timed re-checks");
  return Status::success();
}

port::PortState DpdkPort::state() const noexcept {
  return started_ ? port::PortState::kUp : port::PortState::kDown;
}

bool DpdkPort::poll_rx() noexcept {
  rte_mbuf* mbufs[port::kMaxBurst];
  port::Frame frames[port::kMaxBurst];
  iovec iov[port::kMaxBurst * kMaxRxSegs];
  bool any = false;
  for (uint16_t q = 0; q < opts_.queues; ++q) {
    const uint16_t n = rte_eth_rx_burst(port_id_, q, mbufs, port::kMaxBurst);
    if (n == 0) continue;
    any = true;
    size_t nf = 0;
    size_t ni = 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = mbufs[i];
      if (m->pkt_len < port::kMinFrameLen || m->nb_segs > kMaxRxSegs) [[unlikely]] {
        ++stats_.in_drop_bad_frame;
        continue;
      }
      port::Frame& f = frames[nf++];
      f = port::Frame{};
      f.iov = &iov[ni];
      for (rte_mbuf* s = m; s; s = s->next) {
        iov[ni++] = iovec{rte_pktmbuf_mtod(s, void*), s->data_len};
        ++f.iovcnt;
      }
      f.len = m->pkt_len;
      stats_.in_bytes += m->pkt_len;
    }
    if (sink_) {
      stats_.in_frames += nf;
      sink_->receive_burst(*this, {frames, nf});
    } else {
      stats_.in_drop_no_sink += nf;
    }
    rte_pktmbuf_free_bulk(mbufs, n);
  }
  return any;
}

bool DpdkPort::enter_interrupt_mode() noexcept {
  if (!stats_.rx_interrupts) return false;
  for (uint16_t q = 0; q < opts_.queues; ++q) (void)rte_eth_dev_rx_intr_enable(port_id_, q);
  // Frames that arrived before the interrupt was armed raise none: look once more.
  for (uint16_t q = 0; q < opts_.queues; ++q) {
    if (rte_eth_rx_queue_count(port_id_, q) > 0) {
      exit_interrupt_mode();
      return false;
    }
  }
  irq_mode_ = true;
  return true;
}

void DpdkPort::exit_interrupt_mode() noexcept {
  irq_mode_ = false;
  for (uint16_t q = 0; q < opts_.queues; ++q) (void)rte_eth_dev_rx_intr_disable(port_id_, q);
}

size_t DpdkPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (frames.empty()) return 0;
  if (!started_) {
    stats_.out_drop_not_ready += frames.size();
    return 0;
  }
  rte_mbuf* mbufs[port::kMaxBurst];
  uint16_t index_of[port::kMaxBurst];  // frame index of each mbuf
  const size_t want = std::min(frames.size(), port::kMaxBurst);
  if (rte_pktmbuf_alloc_bulk(pool_, mbufs, static_cast<unsigned>(want)) != 0) [[unlikely]] {
    stats_.out_drop_no_mbuf += frames.size();
    return 0;
  }
  uint16_t nm = 0;
  size_t limit = want;  // frames [0, limit) were looked at: filled, or dropped as too big
  for (size_t i = 0; i < want; ++i) {
    const port::Frame& f = frames[i];
    if (f.len > max_frame_ || f.len < port::kMinFrameLen) [[unlikely]] {
      ++stats_.out_drop_too_big;
      continue;
    }
    if (!fill_mbuf(mbufs[nm], pool_, f)) [[unlikely]] {
      // The pool ran dry in the middle of a chain: this frame and the rest are refused. The
      // partial chain is freed with the unused mbufs below.
      stats_.out_drop_no_mbuf += want - i;
      limit = i;
      break;
    }
    index_of[nm++] = static_cast<uint16_t>(i);
  }
  const uint16_t q = opts_.queues > 1 ? tx_rr_++ % opts_.queues : 0;
  const uint16_t sent = nm ? rte_eth_tx_burst(port_id_, q, mbufs, nm) : 0;
  for (uint16_t i = 0; i < sent; ++i) {
    ++stats_.out_frames;
    stats_.out_bytes += frames[index_of[i]].len;
  }
  // Unsent mbufs, and the unused ones of the bulk allocation, go back to the pool.
  for (size_t i = sent; i < want; ++i) rte_pktmbuf_free(mbufs[i]);
  if (sent < nm) {
    stats_.out_drop_full += nm - sent;
    return index_of[sent];  // everything before the first unsent frame was taken
  }
  return limit;
}

DpdkPortStats DpdkPort::stats() const noexcept {
  DpdkPortStats s = stats_;
  rte_eth_stats e;
  if (started_ && rte_eth_stats_get(port_id_, &e) == 0) {
    s.dev_ipackets = e.ipackets;
    s.dev_opackets = e.opackets;
    s.dev_ibytes = e.ibytes;
    s.dev_obytes = e.obytes;
    s.dev_imissed = e.imissed;
    s.dev_ierrors = e.ierrors;
    s.dev_oerrors = e.oerrors;
    s.dev_rx_nombuf = e.rx_nombuf;
  }
  return s;
}

}  // namespace uvs::netback
