#!/usr/bin/env bash
# Stage the workload's root tree, the one tree all three packagings are made
# of: Debian's static busybox, a symlink per applet at the path
# `busybox --list-full` gives it, /bin/clperf (tools/clperf.c, the I/O
# benchmark's measuring tool, built static here), /bin/clfn (tools/clfn.c,
# the runtime of `cloudlet fn` instances), the files under overlay/
# (/init, /etc), empty mount points. Everything is owned by 0:0 with mtime
# SOURCE_DATE_EPOCH (default 0), so the packagings are reproducible.
#
# usage: stage.sh OUTDIR     (OUTDIR is replaced)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:?usage: stage.sh OUTDIR}")
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-0}

[ -x "$busybox" ] || { echo "images/rootfs: $busybox missing (run: make deps)" >&2; exit 1; }
# a dynamic busybox would need its libraries in the tree
if readelf -lW "$busybox" | grep -q 'INTERP'; then
    echo "images/rootfs: $busybox is not static (install busybox-static)" >&2; exit 1
fi

# build beside OUTDIR and swap it in, so an interrupted run leaves no half tree
tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
umask 022

mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp run root
cp "$busybox" bin/busybox
# static (the tree has no libc), stripped and without a build ID: the same
# source and compiler give the same bytes
gcc -static -O2 -s -Wl,--build-id=none -Wall -Wextra -Werror -o bin/clperf "$here/tools/clperf.c" ||
    { echo "images/rootfs: cannot build tools/clperf.c statically (run: make deps)" >&2; exit 1; }
# /bin/clfn: the in-guest runtime of `cloudlet fn` instances (its wire
# format is include/cloudlet/fn_proto.h, shared with the server)
gcc -static -O2 -s -Wl,--build-id=none -Wall -Wextra -Werror -I "$here/../../include" -o bin/clfn \
    "$here/tools/clfn.c" ||
    { echo "images/rootfs: cannot build tools/clfn.c statically (run: make deps)" >&2; exit 1; }
"$busybox" --list-full | LC_ALL=C sort | while read -r path; do
    case $path in
        # bin/busybox is the binary itself; /sbin/init is ours (below) so that
        # a disk root boots /init without init=; linuxrc is for initrd only
        bin/busybox | sbin/init | linuxrc) continue ;;
    esac
    dir=${path%/*}
    # relative, so links also resolve in an unpacked tree seen from the host
    up=${dir//[!\/]/}; up=${up//\//../}
    [ "$dir" = bin ] && target=busybox || target=../${up}bin/busybox
    mkdir -p "$dir"
    ln -s "$target" "$path"
done
ln -s ../init sbin/init
cp -R "$here/overlay/." .

# modes stated here rather than taken from the checkout (umask, git)
find . -type d -exec chmod 0755 {} +
find . -type f -exec chmod 0644 {} +
chmod 0755 bin/busybox bin/clperf bin/clfn init
chmod 1777 tmp
chmod 0700 root
chown -hR 0:0 .
find . -exec touch -h -d "@$epoch" {} +

cd /
rm -rf "$out"
mv "$tmp" "$out"
echo "images/rootfs: staged $(find "$out" | wc -l) entries in $out"
