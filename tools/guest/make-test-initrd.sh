#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes a per-test initrd: the base guest initramfs with one more cpio archive holding /test.sh.
#
# Usage: tools/guest/make-test-initrd.sh BASE.cpio.gz TEST.sh OUT.cpio.gz [EXTRA_FILE...]
#
# The kernel unpacks concatenated cpio archives in order, each one gzip-compressed on its own
# (Documentation/driver-api/early-userspace/buffer-format.rst), so a test costs one small archive
# instead of repacking the base. EXTRA_FILEs are added as /test-files/<basename> (mode kept), for
# tests that need data or a second script inside the guest.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BASE.cpio.gz TEST.sh OUT.cpio.gz [EXTRA_FILE...]" >&2
  exit 2
fi
base=$1 test=$2 out=$3
shift 3
[ -s "$base" ] || { echo "make-test-initrd: no base initrd $base" >&2; exit 1; }
[ -f "$test" ] || { echo "make-test-initrd: no test script $test" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 755 "$test" "$stage/test.sh"
if [ $# -gt 0 ]; then
  mkdir "$stage/test-files"
  for f in "$@"; do
    cp -p "$f" "$stage/test-files/"
  done
fi

tmp="$out.tmp.$$"
{
  cat "$base"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1n
} >"$tmp"
mv -f "$tmp" "$out"
