// SPDX-License-Identifier: MIT
// Tests of IoThread: start, pinning, work handed in from outside, stop and join.
#include <doctest/doctest.h>
#include <pthread.h>

#include <cstring>
#include <string>

#include "eventloop/io_thread.h"
#include "tests/eventloop/test_config.h"

using namespace uvs::ev;

TEST_CASE("an IoThread runs work handed to it, on its own named thread, and stops") {
  IoThread t("uvs-test", uvs::ev::test::loop_options());
  REQUIRE(t.start(0));
  std::thread::id worker;
  char name[16] = {};
  t.loop().run_in_loop_sync([&] {
    worker = std::this_thread::get_id();
    pthread_getname_np(pthread_self(), name, sizeof name);
  });
  CHECK(worker != std::this_thread::get_id());
  CHECK(std::string(name) == "uvs-test");
  bool on_loop = false;
  t.loop().run_in_loop_sync([&] { on_loop = t.loop().in_loop_thread(); });
  CHECK(on_loop);
  CHECK_FALSE(t.loop().in_loop_thread());
  t.stop();
  CHECK_FALSE(t.running());
  t.stop();  // idempotent
}

TEST_CASE("an IoThread pinned to a CPU that does not exist reports failure and still runs") {
  IoThread t("uvs-pin", uvs::ev::test::loop_options());
  CHECK_FALSE(t.start(1000));
  int x = 0;
  t.loop().run_in_loop_sync([&] { x = 1; });
  CHECK(x == 1);
}
