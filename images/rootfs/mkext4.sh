#!/usr/bin/env bash
# Package the staged tree as the ext4 root disk (root=/dev/vda) with
# `mkfs.ext4 -d`: no loop mount, no privileges beyond reading the tree.
#
# Reproducible: fixed UUID and directory hash seed, fixed superblock times
# (E2FSPROGS_FAKE_TIME), C-locale name order (mke2fs -d sorts with
# alphasort). mke2fs copies atime/ctime from the staging tree, which no tool
# can set, and stamps crtime with the clock: a debugfs pass then sets every
# inode's times to SOURCE_DATE_EPOCH.
#
# usage: mkext4.sh TREE OUT.ext4 [SIZE]     (SIZE default 64M)
set -euo pipefail
tree=${1:?usage: mkext4.sh TREE OUT.ext4 [SIZE]}
out=${2:?usage: mkext4.sh TREE OUT.ext4 [SIZE]}
size=${3:-64M}
epoch=${SOURCE_DATE_EPOCH:-0}
export LC_ALL=C
# e2fsprogs reads E2FSPROGS_FAKE_TIME=0 as "unset" and uses the clock
export E2FSPROGS_FAKE_TIME=$(( epoch > 0 ? epoch : 1 ))
uuid=c10d1e70-0000-4000-8000-000000000001
hash_seed=c10d1e70-0000-4000-8000-000000000002

tmp=$(mktemp -d "$(dirname "$out")/.mkext4.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# -m 0: no blocks reserved for root on a single-purpose image
mkfs.ext4 -q -F -L cloudlet -U "$uuid" -m 0 -b 4096 -I 256 \
    -E "hash_seed=$hash_seed,root_owner=0:0" -d "$tree" "$tmp/rootfs.ext4" "$size" >/dev/null
{
    printf '/\n/lost+found\n'
    (cd "$tree" && find . -mindepth 1 -printf '/%P\n')
} | while IFS= read -r p; do
    for f in atime ctime mtime crtime; do printf 'sif "%s" %s @%s\n' "$p" "$f" "$epoch"; done
done >"$tmp/times.debugfs"
# debugfs reports failed commands on stderr but exits 0: treat any as fatal
debugfs -w -f "$tmp/times.debugfs" "$tmp/rootfs.ext4" >/dev/null 2>"$tmp/debugfs.err"
if grep -v '^debugfs [0-9.]* (' "$tmp/debugfs.err" >&2; then
    echo "images: debugfs failed on $out" >&2; exit 1
fi
e2fsck -fn "$tmp/rootfs.ext4" >"$tmp/fsck.log" 2>&1 || { cat "$tmp/fsck.log" >&2; exit 1; }
mv "$tmp/rootfs.ext4" "$out"
echo "images: $out ($size, $(du -k "$out" | cut -f1) KiB used)"
