#!/usr/bin/env bash
# Package the staged tree as the initramfs the VMMs pass with -initrd:
# newc cpio of the tree (sorted names, owner 0:0, inodes renumbered), then a
# second concatenated newc archive holding only /dev/console, all in one
# `gzip -n` stream (the kernel unpacks concatenated archives in order, see
# Documentation/driver-api/early-userspace/buffer-format.rst).
#
# Why /dev/console: the kernel opens it as init's stdin/stdout/stderr before
# /init runs and can mount devtmpfs. Written from an mtree line with bsdtar,
# so no mknod, and no device node in the shared tree (the container and the
# ext4 image get their /dev from the runtime or the kernel).
#
# usage: mkinitramfs.sh TREE OUT.cpio.gz
set -euo pipefail
tree=${1:?usage: mkinitramfs.sh TREE OUT.cpio.gz}
out=${2:?usage: mkinitramfs.sh TREE OUT.cpio.gz}
epoch=${SOURCE_DATE_EPOCH:-0}
export LC_ALL=C

tmp=$(mktemp -d "$(dirname "$out")/.mkinitramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf '#mtree\ndev/console type=char device=native,5,1 mode=0600 uid=0 gid=0 time=%s.0\n' \
    "$epoch" >"$tmp/console.mtree"
{
    (cd "$tree" && find . -mindepth 1 -printf '%P\n' | sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible)
    bsdtar -cf - --format newc "@$tmp/console.mtree"
} | gzip -n -9 >"$tmp/initramfs.cpio.gz"
mv "$tmp/initramfs.cpio.gz" "$out"
echo "images: $out ($(stat -c %s "$out") bytes)"
