// SPDX-License-Identifier: MIT
// The single doctest main that every test suite links.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
