// SPDX-License-Identifier: MIT
// Tests of fd handlers: dispatch, event changes, removal from callbacks, EPERM fds, external.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "eventloop/fn_handler.h"
#include "tests/eventloop/test_config.h"

using namespace uvs::ev;
using uvs::ev::test::loop_options;
using uvs::ev::test::run_until;

namespace {

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    close(r);
    close(w);
  }
  void put() { REQUIRE(write(w, "x", 1) == 1); }
  void drain() {
    char buf[64];
    while (read(r, buf, sizeof buf) > 0) {
    }
  }
};

}  // namespace

TEST_CASE("a readable fd runs its read callback") {
  EventLoop loop(loop_options());
  Pipe p;
  int reads = 0;
  FnHandler h;
  h.read = [&] {
    ++reads;
    p.drain();
  };
  auto reg = loop.add_fd(p.r, Events::kRead, &h);
  REQUIRE(reg.valid());
  loop.run_once(false);
  CHECK(reads == 0);
  p.put();
  CHECK(run_until(loop, [&] { return reads == 1; }));
  loop.run_once(false);
  CHECK(reads == 1);  // level-triggered, but drained: no spurious second call
}

TEST_CASE("set_events switches between read and write readiness") {
  EventLoop loop(loop_options());
  Pipe p;
  int writes = 0;
  FnHandler h;
  h.write = [&] { ++writes; };
  auto reg = loop.add_fd(p.w, Events::kNone, &h);
  loop.run_once(false);
  CHECK(writes == 0);
  reg.set_events(Events::kWrite);
  CHECK(run_until(loop, [&] { return writes > 0; }));
  reg.set_events(Events::kNone);
  int before = writes;
  loop.run_once(false);
  CHECK(writes == before);
}

TEST_CASE("a handler removed from inside its own callback is never called again") {
  EventLoop loop(loop_options());
  Pipe p;
  int calls = 0;
  FnHandler h;
  FdRegistration reg;
  h.read = [&] {
    ++calls;
    reg.reset();  // not drained: level-triggered, so it would fire again if still registered
  };
  reg = loop.add_fd(p.r, Events::kRead, &h);
  p.put();
  CHECK(run_until(loop, [&] { return calls == 1; }));
  for (int i = 0; i < 5; ++i) loop.run_once(false);
  CHECK(calls == 1);
  CHECK(loop.stats().handlers == 0);
}

TEST_CASE("a handler removed by another handler in the same dispatch is not called") {
  EventLoop loop(loop_options());
  Pipe a, b;
  int a_calls = 0, b_calls = 0;
  FnHandler ha, hb;
  FdRegistration ra, rb;
  // Whichever runs first removes the other; exactly one of them may run.
  ha.read = [&] {
    ++a_calls;
    a.drain();
    rb.reset();
  };
  hb.read = [&] {
    ++b_calls;
    b.drain();
    ra.reset();
  };
  ra = loop.add_fd(a.r, Events::kRead, &ha);
  rb = loop.add_fd(b.r, Events::kRead, &hb);
  a.put();
  b.put();
  CHECK(run_until(loop, [&] { return a_calls + b_calls >= 1; }));
  for (int i = 0; i < 5; ++i) loop.run_once(false);
  CHECK(a_calls + b_calls == 1);
}

TEST_CASE("a handler can register another handler from its callback") {
  EventLoop loop(loop_options());
  Pipe a, b;
  int b_calls = 0;
  FnHandler ha, hb;
  FdRegistration rb;
  hb.read = [&] {
    ++b_calls;
    b.drain();
  };
  ha.read = [&] {
    a.drain();
    rb = loop.add_fd(b.r, Events::kRead, &hb);
    b.put();
  };
  auto ra = loop.add_fd(a.r, Events::kRead, &ha);
  a.put();
  CHECK(run_until(loop, [&] { return b_calls == 1; }));
}

TEST_CASE("a regular file, which epoll refuses with EPERM, is reported ready every time") {
  EventLoop loop(loop_options());
  char path[] = "/tmp/uvs-evtest-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  int reads = 0;
  FnHandler h;
  h.read = [&] { ++reads; };
  auto reg = loop.add_fd(fd, Events::kRead, &h);
  REQUIRE(reg.valid());
  loop.run_once(false);
  loop.run_once(false);
  CHECK(reads == 2);
  reg.reset();
  loop.run_once(false);
  CHECK(reads == 2);
  close(fd);
}

TEST_CASE("external handlers are silent while disabled and resume when enabled") {
  EventLoop loop(loop_options());
  Pipe ext, internal;
  int ext_calls = 0, int_calls = 0;
  FnHandler he, hi;
  he.read = [&] {
    ++ext_calls;
    ext.drain();
  };
  hi.read = [&] {
    ++int_calls;
    internal.drain();
  };
  auto re = loop.add_fd(ext.r, Events::kRead, &he, /*external=*/true);
  auto ri = loop.add_fd(internal.r, Events::kRead, &hi);
  loop.disable_external();
  loop.disable_external();  // nests
  ext.put();
  internal.put();
  CHECK(run_until(loop, [&] { return int_calls == 1; }));
  for (int i = 0; i < 3; ++i) loop.run_once(false);
  CHECK(ext_calls == 0);
  loop.enable_external();
  loop.run_once(false);
  CHECK(ext_calls == 0);
  loop.enable_external();
  CHECK(run_until(loop, [&] { return ext_calls == 1; }));
}

TEST_CASE("the auto monitor moves to epoll for many fds and back for few") {
  LoopOptions o = loop_options();
  if (o.monitor != MonitorKind::kAuto) return;
  o.auto_epoll_threshold = 16;
  EventLoop loop(o);
  CHECK(std::string(loop.stats().monitor) == "ppoll");
  std::vector<std::unique_ptr<Pipe>> pipes;
  std::vector<FdRegistration> regs;
  FnHandler h;
  int reads = 0;
  h.read = [&] { ++reads; };
  for (int i = 0; i < 20; ++i) {
    pipes.push_back(std::make_unique<Pipe>());
    regs.push_back(loop.add_fd(pipes.back()->r, Events::kRead, &h));
  }
  CHECK(std::string(loop.stats().monitor) == "epoll");
  pipes[19]->put();  // still dispatched after the switch
  CHECK(run_until(loop, [&] { return reads >= 1; }));
  pipes[19]->drain();
  regs.resize(4);
  CHECK(std::string(loop.stats().monitor) == "ppoll");
  int before = reads;
  pipes[2]->put();
  CHECK(run_until(loop, [&] { return reads > before; }));
}
