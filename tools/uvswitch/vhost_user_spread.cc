// SPDX-License-Identifier: MIT
// VhostUserSpread: construction on each lane's loop, counters gathered per thread, teardown order.
#include "tools/uvswitch/vhost_user_spread.h"

#include "config/vhost_user_port_spec.h"
#include "tools/uvswitch/vhost_user_factory.h"

namespace uvs::daemon {

std::unique_ptr<VhostUserSpread> VhostUserSpread::create(const config::PortSpec& spec,
                                                         std::vector<unsigned> thread_ids,
                                                         bridge::PortThreads& threads,
                                                         std::string* error) {
  for (unsigned t : thread_ids) {
    if (t >= threads.size()) {
      *error = "port " + spec.id + ": threads= names thread " + std::to_string(t) +
               " but there are only " + std::to_string(threads.size()) + " threads";
      return nullptr;
    }
  }
  netback::VhostUserNetOptions o;
  if (!vhost_user_options(spec, &o, error)) return nullptr;
  o.lanes = uint32_t(thread_ids.size());
  std::unique_ptr<VhostUserSpread> s(new VhostUserSpread(threads, std::move(thread_ids)));
  ev::EventLoop& home = threads.loop(s->thread_ids_[0]);
  home.run_in_loop_sync([&] { s->port_ = std::make_unique<netback::VhostUserNetPort>(home, o); });
  for (uint32_t i = 1; i < s->thread_ids_.size(); ++i) {
    ev::EventLoop& loop = threads.loop(s->thread_ids_[i]);
    loop.run_in_loop_sync([&] { s->lanes_.push_back(s->port_->make_lane(i, loop)); });
  }
  netback::Status st;
  home.run_in_loop_sync([&] { st = s->port_->start(); });
  if (!st) {
    *error = st.to_string();
    return nullptr;  // the destructor takes it apart in order
  }
  return s;
}

VhostUserSpread::~VhostUserSpread() {
  if (!port_) return;
  threads_.loop(thread_ids_[0]).run_in_loop_sync([&] { port_->release_lanes(); });
  for (size_t i = 0; i < lanes_.size(); ++i) {
    threads_.loop(thread_ids_[i + 1]).run_in_loop_sync([&] { lanes_[i]->stop(); });
  }
  threads_.loop(thread_ids_[0]).run_in_loop_sync([&] { port_.reset(); });
  for (size_t i = 0; i < lanes_.size(); ++i) {
    threads_.loop(thread_ids_[i + 1]).run_in_loop_sync([&] { lanes_[i].reset(); });
  }
}

std::vector<bridge::PortLaneSpec> VhostUserSpread::lanes() const {
  std::vector<bridge::PortLaneSpec> out{{port_.get(), thread_ids_[0]}};
  for (size_t i = 0; i < lanes_.size(); ++i) out.push_back({lanes_[i].get(), thread_ids_[i + 1]});
  return out;
}

port::PortState VhostUserSpread::state() {
  port::PortState st = port::PortState::kDown;
  threads_.loop(thread_ids_[0]).run_in_loop_sync([&] { st = port_->state(); });
  return st;
}

Json VhostUserSpread::details() {
  netback::VhostUserNetStats s;
  threads_.loop(thread_ids_[0]).run_in_loop_sync([&] { s = port_->stats(); });
  for (size_t i = 0; i < lanes_.size(); ++i) {
    threads_.loop(thread_ids_[i + 1]).run_in_loop_sync(
        [&] { netback::VhostUserNetPort::add_lane_stats(s, *lanes_[i]); });
  }
  Json out;
  threads_.loop(thread_ids_[0]).run_in_loop_sync([&] { out = vhost_user_json(*port_, s); });
  return out;
}

}  // namespace uvs::daemon
