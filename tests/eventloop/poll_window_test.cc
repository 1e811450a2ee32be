// SPDX-License-Identifier: MIT
// Tests of the adaptive poll window arithmetic (grow, keep, shrink, clamp), QEMU's rules.
#include <doctest/doctest.h>

#include "eventloop/poll_window.h"

using namespace uvs::ev;

TEST_CASE("the window grows from 4 us by the grow factor up to the maximum") {
  PollParams p{32768, 2, 2};
  PollWindow w;
  w.on_event(10'000, p);  // waited 10 us < max: worth polling
  CHECK(w.ns() == 4000);
  w.on_event(10'000, p);
  CHECK(w.ns() == 8000);
  w.on_event(10'000, p);
  CHECK(w.ns() == 16000);
  w.on_event(8'000, p);  // caught within the window: keep
  CHECK(w.ns() == 16000);
  w.on_event(20'000, p);
  CHECK(w.ns() == 32000);
  w.on_event(32'500, p);
  CHECK(w.ns() == 32768);  // clamped
}

TEST_CASE("a wait longer than the maximum shrinks the window; shrink 0 resets it") {
  PollParams p{32768, 2, 2};
  PollWindow w;
  for (int i = 0; i < 4; ++i) w.on_event(20'000, p);
  CHECK(w.ns() == 32000);
  w.on_event(1'000'000, p);
  CHECK(w.ns() == 16000);
  PollParams reset{32768, 2, 0};
  w.on_event(1'000'000, reset);
  CHECK(w.ns() == 0);
}

TEST_CASE("idle wake-ups shrink only when the wait exceeded the maximum") {
  PollParams p{32768, 4, 4};
  PollWindow w;
  w.on_event(10'000, p);
  w.on_event(10'000, p);
  CHECK(w.ns() == 16000);
  w.on_idle(10'000, p);
  CHECK(w.ns() == 16000);
  w.on_idle(50'000, p);
  CHECK(w.ns() == 4000);
  w.on_idle(50'000, p);
  CHECK(w.ns() == 1000);
}

TEST_CASE("lowering the maximum clamps; max 0 disables") {
  PollParams p{32768, 2, 2};
  PollWindow w;
  for (int i = 0; i < 5; ++i) w.on_event(20'000, p);
  w.clamp(PollParams{10'000, 2, 2});
  CHECK(w.ns() == 10'000);
  w.on_event(5'000, PollParams{0, 2, 2});
  CHECK(w.ns() == 0);
}
