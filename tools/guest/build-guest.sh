#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Linux test guest (Debian cloud kernel + busybox initramfs) that end-to-end tests boot.
#
# Usage: tools/guest/build-guest.sh OUTDIR
#
# Outputs, in OUTDIR:
#   vmlinuz        the Debian linux-image-*-cloud-amd64 kernel
#   base.cpio.gz   busybox, the virtio-net modules, /init and the in-guest helpers (guest-init.sh,
#                  guest-lib.sh, udhcpc.script from this folder)
#   stamp          the cache key the outputs were built from
#   dl/            the downloaded .deb files, kept so a rebuild after a script change is offline
#
# Cached: when OUTDIR/stamp matches the current key (these scripts, the kernel package version and the
# busybox version) nothing is done, which takes well under a second. Safe to run concurrently: the
# build holds a lock on OUTDIR/.lock. Needs: apt-get, dpkg, busybox-static, cpio, gzip, kmod (modinfo).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
meta_pkg=linux-image-cloud-amd64
busybox_bin=/bin/busybox

# Modules virtio-net needs, in load order: each one's `modinfo -F depends` comes before it
# (virtio_pci needs virtio_ring, virtio and both transports; virtio_net needs net_failover).
# tun is extra: it lets a guest test create tap devices. AF_PACKET (udhcpc) and unix sockets are
# built into the cloud kernel (CONFIG_PACKET=y, CONFIG_UNIX=y), so they need no module.
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover
         virtio_net tun)

log() { echo "build-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in apt-get apt-cache dpkg cpio gzip modinfo sha256sum flock; do
  command -v "$tool" >/dev/null || die "$tool not found (run tools/install-deps.sh)"
done
[ -x "$busybox_bin" ] && "$busybox_bin" --list >/dev/null 2>&1 ||
  die "$busybox_bin missing (apt-get install busybox-static)"
# A dynamically linked busybox (package busybox) would not run in an initramfs without libc.
if command -v file >/dev/null && file -L "$busybox_bin" | grep -q dynamically; then
  die "$busybox_bin is dynamically linked; install busybox-static"
fi

mkdir -p "$out/dl"
out=$(cd "$out" && pwd)
exec 9>"$out/.lock"
flock -w 600 9 || die "timed out waiting for the lock on $out/.lock"
rm -rf "$out"/.work.*   # left by a build that was killed; nobody else can be using them now

# Resolves the versioned kernel package the meta package depends on, and its version. Debian's meta
# package pins it exactly ("Depends: linux-image-X-cloud-amd64 (= V)"), so one apt-cache call does.
# Prints "NAME VERSION", or nothing when the apt lists do not know the package.
resolve_kernel() {
  local dep name ver
  dep=$(apt-cache show --no-all-versions "$meta_pkg" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
  name=$(echo "$dep" | grep -o 'linux-image-[0-9][^ ,]*-cloud-amd64' | head -n1 || true)
  [ -n "$name" ] || return 0
  ver=$(echo "$dep" | sed -n "s/.*$name (= \([^)]*\)).*/\1/p")
  if [ -z "$ver" ]; then
    ver=$(apt-cache policy "$name" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1)
  fi
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 0
  echo "$name $ver"
}

# Downloads NAME=VERSION into $out/dl unless that exact .deb is already there. Prints the path.
fetch_deb() {
  local name=$1 ver=$2 file
  # apt-get download names files NAME_VERSION_ARCH.deb with ':' in the version escaped as %3a.
  file="$out/dl/${name}_${ver//:/%3a}_amd64.deb"
  if [ ! -s "$file" ]; then
    # The sandbox user _apt may not be able to write to a build dir; download as the caller.
    (cd "$out/dl" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$name=$ver" >&2) ||
      return 1
  fi
  [ -s "$file" ] || return 1
  echo "$file"
}

kernel=$(resolve_kernel)
if [ -z "$kernel" ] && [ -s "$out/stamp" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/base.cpio.gz" ]; then
  # No apt lists (fresh container) but a previous build exists: it is as good as we can check.
  log "apt lists do not resolve $meta_pkg; reusing the existing guest in $out"
  exit 0
fi
if [ -z "$kernel" ]; then
  log "apt lists do not resolve $meta_pkg; running apt-get update"
  apt-get update -q >&2 || die "apt-get update failed"
  kernel=$(resolve_kernel)
  [ -n "$kernel" ] || die "cannot resolve the package $meta_pkg depends on"
fi
read -r kpkg kver <<<"$kernel"

busybox_ver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
scripts_sum=$(cat "$here/build-guest.sh" "$here/guest-init.sh" "$here/guest-lib.sh" "$here/udhcpc.script" |
              sha256sum | cut -c1-16)
key="kernel=$kpkg=$kver busybox=$busybox_ver scripts=$scripts_sum"
if [ -s "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$key" ] && [ -s "$out/vmlinuz" ] &&
   [ -s "$out/base.cpio.gz" ]; then
  exit 0
fi

log "building guest: $key"
if ! kdeb=$(fetch_deb "$kpkg" "$kver"); then
  # The lists may name a version the mirror no longer has; refresh them once and retry.
  log "download of $kpkg=$kver failed; running apt-get update and retrying"
  apt-get update -q >&2 || die "apt-get update failed"
  read -r kpkg kver <<<"$(resolve_kernel)"
  key="kernel=$kpkg=$kver busybox=$busybox_ver scripts=$scripts_sum"
  kdeb=$(fetch_deb "$kpkg" "$kver") || die "cannot download $kpkg=$kver"
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg -x "$kdeb" "$work/kpkg"

vmlinuz=$(ls "$work"/kpkg/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $kdeb"
modroot=$(ls -d "$work"/kpkg/lib/modules/*/ 2>/dev/null | head -n1)
[ -n "$modroot" ] || die "no lib/modules in $kdeb"
kconfig=$(ls "$work"/kpkg/boot/config-* | head -n1)
for opt in CONFIG_PACKET CONFIG_UNIX CONFIG_INET CONFIG_DEVTMPFS CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP; do
  grep -qx "$opt=y" "$kconfig" || die "$opt is not built into $kpkg; /init would need another module"
done

# --- root file system -----------------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/run,lib/uvs/modules} \
         "$root"/etc/udhcpc "$root"/usr/share/udhcpc "$root"/var/www
install -m 755 "$busybox_bin" "$root/bin/busybox"
# The equivalent of `busybox --install -s`, done at build time so the guest does not pay for it:
# every applet becomes a symlink to /bin/busybox at busybox's own path for it (bin/, sbin/, usr/...).
while read -r applet; do
  [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < <("$busybox_bin" --list-full)
[ -L "$root/bin/sh" ] || die "busybox has no sh applet"

# Copies each module, checking that everything it depends on is loaded before it.
: >"$root/lib/uvs/modules/order"
loaded=" "
for m in "${modules[@]}"; do
  ko=$(find "$modroot" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
  [ -n "$ko" ] || die "module $m not found in $kpkg"
  case $ko in
    *.ko) ;;
    *) die "module $ko is compressed; busybox insmod needs plain .ko files" ;;
  esac
  deps=$(modinfo -F depends "$ko")
  for d in ${deps//,/ }; do
    case $loaded in *" $d "*) ;; *) die "module $m needs $d, which is not loaded before it" ;; esac
  done
  install -m 644 "$ko" "$root/lib/uvs/modules/$m.ko"
  echo "$m" >>"$root/lib/uvs/modules/order"
  loaded="$loaded$m "
done

install -m 755 "$here/guest-init.sh" "$root/init"
install -m 644 "$here/guest-lib.sh" "$root/lib/uvs/lib.sh"
# Debian builds busybox's udhcpc with /etc/udhcpc/default.script as its default script; upstream's
# default is /usr/share/udhcpc/default.script. Provide both so `udhcpc` alone applies the lease.
install -m 755 "$here/udhcpc.script" "$root/etc/udhcpc/default.script"
ln -s /etc/udhcpc/default.script "$root/usr/share/udhcpc/default.script"
echo "uvs-guest" >"$root/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
echo "uvs-guest index" >"$root/var/www/index.html"
echo "$kpkg $kver" >"$root/etc/uvs-kernel"

# newc is the only cpio format the kernel unpacks. Sorted names, a fixed owner and fixed times make
# the archive depend only on its inputs.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
   cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9n >"$work/base.cpio.gz"

cp "$vmlinuz" "$work/vmlinuz"
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/base.cpio.gz" "$out/base.cpio.gz"
echo "$key" >"$out/stamp"
# Keep only the .deb this build used.
find "$out/dl" -name '*.deb' ! -path "$kdeb" -delete
log "done: $out/vmlinuz ($(stat -c %s "$out/vmlinuz") B), $out/base.cpio.gz ($(stat -c %s "$out/base.cpio.gz") B)"
