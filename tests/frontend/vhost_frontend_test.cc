// SPDX-License-Identifier: MIT
// VhostFrontend against a scripted backend: start-up order, acks, memory table, stop, faults on the wire.
#include <doctest/doctest.h>
#include <unistd.h>

#include <set>
#include <string>

#include "netback/frontend/vhost_frontend.h"
#include "tests/frontend/scripted_backend.h"

namespace v = uvs::netback::virtio;
namespace vu = uvs::netback::vu;
using R = vu::VhostUserRequest;
using uvs::frontend::Fault;
using uvs::frontend::FrontendError;
using uvs::frontend::FrontendOptions;
using uvs::frontend::FrontendState;
using uvs::frontend::MemoryMode;
using uvs::frontend::VhostFrontend;
using uvs::frontend::test::ScriptedBackend;
using uvs::frontend::test::SeenMessage;

namespace {

std::string sock_path(const char* tag) {
  return "/tmp/uvs-fe-test-" + std::to_string(getpid()) + "-" + tag + ".sock";
}

uint32_t rq(R r) { return static_cast<uint32_t>(r); }

uint64_t qemu_like_features() {
  namespace f = v::feature;
  return v::feature_bit(f::kVersion1) | v::feature_bit(f::kNetMrgRxbuf) | v::feature_bit(f::kRingEventIdx) |
         v::feature_bit(f::kRingIndirectDesc) | v::feature_bit(f::kVhostUserProtocolFeatures) |
         v::feature_bit(f::kNetMq) | v::feature_bit(f::kLogAll);
}

uint64_t all_protocol() {
  using P = vu::ProtocolFeature;
  uint64_t p = 0;
  for (P x : {P::kMq, P::kReplyAck, P::kConfigureMemSlots, P::kStatus, P::kConfig, P::kLogShmfd}) {
    p |= vu::protocol_bit(x);
  }
  return p;
}

uint64_t payload_u64(const SeenMessage& m) {
  uint64_t v = 0;
  std::memcpy(&v, m.payload.data(), std::min<size_t>(8, m.payload.size()));
  return v;
}

}  // namespace

TEST_CASE("start-up follows QEMU's order, with acks, status and two memory regions") {
  ScriptedBackend be;
  be.features = qemu_like_features();
  be.protocol_features = all_protocol();
  be.queue_num = 4;
  const std::string path = sock_path("startup");
  be.serve(path);
  {
    FrontendOptions o;
    o.queue_pairs = 2;
    VhostFrontend fe(o);
    auto s = fe.connect(path);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    CHECK(fe.state() == FrontendState::kRunning);
    // LOG_ALL is offered but not acked until a migration starts; LOG_SHMFD is acked at once (as
    // QEMU does: it refuses to migrate without it); PROTOCOL_FEATURES is kept.
    CHECK_FALSE(fe.has_feature(v::feature::kLogAll));
    CHECK(fe.has_feature(v::feature::kVhostUserProtocolFeatures));
    CHECK(fe.has_feature(v::feature::kNetMq));
    CHECK((fe.protocol_features() & vu::protocol_bit(vu::ProtocolFeature::kLogShmfd)) != 0);
    CHECK(fe.backend_queue_num() == 4);

    std::vector<uint32_t> want = {rq(R::kGetFeatures), rq(R::kGetProtocolFeatures), rq(R::kSetProtocolFeatures),
                                  rq(R::kGetQueueNum), rq(R::kSetOwner), rq(R::kSetFeatures),
                                  rq(R::kSetStatus), rq(R::kSetMemTable)};
    for (uint32_t vring = 0; vring < 4; ++vring) {
      for (R r : {R::kSetVringNum, R::kSetVringBase, R::kSetVringAddr, R::kSetVringKick, R::kSetVringCall}) {
        want.push_back(rq(r));
      }
    }
    for (uint32_t vring = 0; vring < 4; ++vring) want.push_back(rq(R::kSetVringEnable));
    want.push_back(rq(R::kSetStatus));
    CHECK(be.requests() == want);

    auto msgs = be.messages();
    for (const SeenMessage& m : msgs) {
      CHECK((m.flags & vu::kFlagVersionMask) == vu::kFlagVersion);
      CHECK(m.size == m.payload.size());
      bool is_get = m.request == rq(R::kGetFeatures) || m.request == rq(R::kGetProtocolFeatures) ||
                    m.request == rq(R::kGetQueueNum);
      bool before_ack = is_get || m.request == rq(R::kSetProtocolFeatures);
      // REPLY_ACK is in force from the first message after SET_PROTOCOL_FEATURES.
      CHECK(bool(m.flags & vu::kFlagNeedReply) == !before_ack);
    }
    const SeenMessage& set_features = msgs[5];
    CHECK(payload_u64(set_features) == fe.features());
    const SeenMessage& table = msgs[7];
    CHECK(table.nfds == 2);
    CHECK(table.size == 8 + 2 * 32);
    uint32_t nregions = 0;
    std::memcpy(&nregions, table.payload.data(), 4);
    CHECK(nregions == 2);
    vu::MemoryRegion r1;
    std::memcpy(&r1, table.payload.data() + 8 + 32, sizeof(r1));
    CHECK(r1.guest_phys_addr == uint64_t{1} << 32);
    CHECK(r1.mmap_offset != 0);
    // Kick and call carry exactly one fd and the vring index; status ends at DRIVER_OK.
    for (const SeenMessage& m : msgs) {
      if (m.request == rq(R::kSetVringKick) || m.request == rq(R::kSetVringCall)) {
        CHECK(m.nfds == 1);
        CHECK((payload_u64(m) & vu::kVringNofdMask) == 0);
      }
    }
    CHECK(payload_u64(msgs.back()) == (v::kStatusAcknowledge | v::kStatusDriver | v::kStatusFeaturesOk |
                                       v::kStatusDriverOk));

    // The ring addresses translate through the memory table to the same memory: the backend's
    // view of RX vring 2's avail ring shows the buffers the driver posted.
    auto a = be.vring_addr(2);
    auto* avail = reinterpret_cast<v::VringAvail*>(be.from_user(a.avail_user_addr));
    REQUIRE(avail != nullptr);
    CHECK(avail->idx == fe.queue_pair(1).rx().avail_idx());
    CHECK(avail->idx == o.queue_size);
    auto* desc = reinterpret_cast<v::VringDesc*>(be.from_user(a.desc_user_addr));
    REQUIRE(desc != nullptr);
    CHECK(desc[0].len == o.rx_buf_len);
    CHECK(desc[0].flags == v::kDescFWrite);

    auto cfg = fe.get_config();
    REQUIRE(cfg.ok());
    CHECK(cfg.value().mac[5] == 0x42);

    std::vector<uint16_t> bases;
    CHECK(fe.disconnect(&bases).ok());
    CHECK(bases == std::vector<uint16_t>{40, 41, 42, 43});
    CHECK(fe.state() == FrontendState::kIdle);
  }
  be.stop();
  auto reqs = be.requests();
  REQUIRE(reqs.size() >= 6);
  CHECK(reqs[reqs.size() - 2] == rq(R::kGetVringBase));
  CHECK(reqs.back() == rq(R::kSetStatus));
}

TEST_CASE("a backend without protocol features gets no acks, no enables and the legacy order") {
  ScriptedBackend be;
  be.features = v::feature_bit(v::feature::kVersion1);
  const std::string path = sock_path("plain");
  be.serve(path);
  {
    VhostFrontend fe;
    REQUIRE(fe.connect(path).ok());
    CHECK(fe.net_hdr_len() == 12);
    CHECK(fe.protocol_features() == 0);
  }
  be.stop();
  for (const SeenMessage& m : be.messages()) {
    CHECK((m.flags & vu::kFlagNeedReply) == 0);
    CHECK(m.request != rq(R::kSetVringEnable));
    CHECK(m.request != rq(R::kGetProtocolFeatures));
  }
  CHECK(be.requests().size() == 4 + 5 * 2);
}

TEST_CASE("ADD_MEM_REG mode announces one region per message") {
  ScriptedBackend be;
  be.features = qemu_like_features();
  be.protocol_features = all_protocol();
  const std::string path = sock_path("addmem");
  be.serve(path);
  {
    FrontendOptions o;
    o.memory_mode = MemoryMode::kAddMemReg;
    VhostFrontend fe(o);
    auto s = fe.connect(path);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
  }
  be.stop();
  int adds = 0;
  for (const SeenMessage& m : be.messages()) {
    CHECK(m.request != rq(R::kSetMemTable));
    if (m.request == rq(R::kAddMemReg)) {
      ++adds;
      CHECK(m.nfds == 1);
      CHECK(m.size == sizeof(vu::SingleMemoryRegion));
    }
  }
  CHECK(adds == 2);
}

TEST_CASE("start-up failures name the step") {
  SUBCASE("nack") {
    ScriptedBackend be;
    be.features = qemu_like_features();
    be.protocol_features = all_protocol();
    be.nack_request = rq(R::kSetVringAddr);
    const std::string path = sock_path("nack");
    be.serve(path);
    {
      VhostFrontend fe;
      auto s = fe.connect(path);
      CHECK(s.code == FrontendError::kNack);
      CHECK(s.message.find("SET_VRING_ADDR") != std::string::npos);
      CHECK(fe.state() == FrontendState::kIdle);
      CHECK_FALSE(fe.channel().connected());
    }
    be.stop();
  }
  SUBCASE("missing VERSION_1") {
    ScriptedBackend be;
    be.features = v::feature_bit(v::feature::kNetMrgRxbuf);
    const std::string path = sock_path("v1");
    be.serve(path);
    {
      VhostFrontend fe;
      CHECK(fe.connect(path).code == FrontendError::kFeatures);
    }
    be.stop();
  }
  SUBCASE("too few queues") {
    ScriptedBackend be;
    be.features = qemu_like_features();
    be.protocol_features = all_protocol();
    be.queue_num = 1;
    const std::string path = sock_path("mq");
    be.serve(path);
    {
      FrontendOptions o;
      o.queue_pairs = 2;
      VhostFrontend fe(o);
      CHECK(fe.connect(path).code == FrontendError::kFeatures);
    }
    be.stop();
  }
  SUBCASE("nobody listening") {
    FrontendOptions o;
    o.connect_timeout_ms = 50;
    VhostFrontend fe(o);
    CHECK(fe.connect(sock_path("nobody")).code == FrontendError::kTimeout);
  }
}

TEST_CASE("server mode: the backend connects to the frontend") {
  ScriptedBackend be;
  be.features = qemu_like_features();
  be.protocol_features = all_protocol();
  const std::string path = sock_path("server");
  {
    VhostFrontend fe;
    REQUIRE(fe.listen(path).ok());
    be.connect_to(path);
    auto s = fe.accept(5000);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    CHECK(fe.running());
  }
  be.stop();
  CHECK(be.requests().front() == rq(R::kGetFeatures));
}

TEST_CASE("control faults put the promised bytes and fds on the wire") {
  struct Expect {
    Fault fault;
    uint32_t request;
    uint32_t size;
    size_t min_fds;
  } cases[] = {
      {Fault::kPayloadTooShort, rq(R::kSetVringNum), 4, 0},
      {Fault::kPayloadTooLong, rq(R::kSetVringBase), 16, 0},
      {Fault::kPayloadHuge, rq(R::kSetMemTable), 256u << 20, 0},
      {Fault::kTooManyFds, rq(R::kSetMemTable), 8 + 2 * 32, 8},
      {Fault::kMissingFds, rq(R::kSetMemTable), 8 + 2 * 32, 0},
      {Fault::kKickWithoutFd, rq(R::kSetVringKick), 8, 0},
      {Fault::kUnknownRequest, 0x7777, 0, 0},
      {Fault::kMemTableTooManyRegions, rq(R::kSetMemTable), sizeof(vu::MemoryTable), 8},
  };
  for (const Expect& e : cases) {
    CAPTURE(uvs::frontend::fault_name(e.fault));
    ScriptedBackend be;
    be.features = qemu_like_features();
    be.protocol_features = all_protocol();
    const std::string path = sock_path("fault");
    be.serve(path);
    size_t before = 0;
    {
      VhostFrontend fe;
      REQUIRE(fe.connect(path).ok());
      before = be.messages().size();
      CHECK(fe.inject(e.fault).ok());
      CHECK(fe.state() == FrontendState::kPoisoned);
      CHECK(fe.send_frames({}) == 0);
    }
    be.stop();
    auto msgs = be.messages();
    REQUIRE(msgs.size() > before);
    const SeenMessage& m = msgs[before];
    CHECK(m.request == e.request);
    CHECK(m.size == e.size);
    CHECK(m.nfds >= e.min_fds);
    if (e.fault == Fault::kTooManyFds) CHECK((m.nfds > vu::kMaxFds || m.ctrunc));
    if (e.fault == Fault::kMissingFds || e.fault == Fault::kKickWithoutFd) CHECK(m.nfds == 0);
  }
}

TEST_CASE("disconnect faults stop mid-message") {
  for (Fault f : {Fault::kDisconnectMidHeader, Fault::kDisconnectMidPayload}) {
    CAPTURE(uvs::frontend::fault_name(f));
    ScriptedBackend be;
    be.features = qemu_like_features();
    be.protocol_features = all_protocol();
    const std::string path = sock_path("midmsg");
    be.serve(path);
    size_t before = 0;
    {
      VhostFrontend fe;
      REQUIRE(fe.connect(path).ok());
      before = be.messages().size();
      CHECK(fe.inject(f).ok());
      CHECK_FALSE(fe.channel().connected());
    }
    be.stop();
    auto msgs = be.messages();
    if (f == Fault::kDisconnectMidHeader) {
      CHECK(msgs.size() == before);  // the header never completed
    } else {
      REQUIRE(msgs.size() == before + 1);
      CHECK(msgs.back().request == rq(R::kSetMemTable));
      CHECK(msgs.back().payload.size() == msgs.back().size);  // buffer sized; read hit EOF
      CHECK(msgs.back().nfds == 2);
    }
  }
}

TEST_CASE("every fault has a distinct name and ring faults need a running session") {
  std::set<std::string> names;
  for (const auto& info : uvs::frontend::all_faults()) {
    CHECK(names.insert(info.name).second);
    CHECK(&uvs::frontend::fault_info(info.fault) == &info);
  }
  CHECK(names.size() == uvs::frontend::all_faults().size());
  VhostFrontend fe;
  CHECK(fe.inject(Fault::kDescChainLoop).code == FrontendError::kNotConnected);
}
