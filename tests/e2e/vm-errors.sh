#!/usr/bin/env bash
# `cloudlet vm run` with bad input: one line naming the problem, exit 1,
# and nothing started. The VMM judges the files before it opens /dev/kvm,
# so this suite runs natively on any machine, KVM or not.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
tmp=$(mktemp -d /tmp/cloudlet-vm-errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for f in "$cl" "$img/bzImage" "$img/initramfs.cpio.gz"; do
    [ -e "$f" ] || { t_fail "vm errors: $f" "missing (run: make all images)"; t_end; }
done

# bad input: one line naming the problem, exit 1, before any guest runs
bad() {   # NAME PATTERN ARGS...
    local name=$1 pat=$2; shift 2
    "$cl" vm run "$@" </dev/null >"$tmp/bad.out" 2>"$tmp/bad.err"
    local r=$?
    if [ "$r" = 1 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && grep -q -- "$pat" "$tmp/bad.err"; then
        t_pass "bad input: $name"
    else
        t_fail "bad input: $name" "exit $r: $(cat "$tmp/bad.err")"
    fi
}
head -c 100000 /dev/urandom >"$tmp/garbage"
head -c 600 "$img/bzImage" >"$tmp/truncated"
bad "missing kernel" "kernel: /nonexistent: No such file" -k /nonexistent
bad "corrupt kernel" "kernel $tmp/garbage: .*not" -k "$tmp/garbage"
bad "truncated bzImage" "kernel $tmp/truncated" -k "$tmp/truncated"
bad "missing initrd" "initrd /nonexistent" -k "$img/bzImage" -i /nonexistent
bad "--cpus 0" "out of range" -k "$img/bzImage" --cpus 0
bad "--mem too small" "too small" -k "$img/bzImage" --mem 1M
bad "--mem beyond the host" "more than this host" -k "$img/bzImage" --mem 100T
bad "kernel too large for --mem" "kernel $img/bzImage needs .* MiB of guest RAM" -k "$img/bzImage" --mem 20M
# an initrd as large as all of RAM never fits, whatever the kernel's size
truncate -s 64M "$tmp/huge.initrd"
bad "initrd does not fit" "initrd $tmp/huge.initrd: .*does not fit" -k "$img/bzImage" -i "$tmp/huge.initrd" --mem 64M
bad "command line too long" "cmdline" -k "$img/bzImage" -c "$(head -c 3000 /dev/zero | tr '\0' a)"

# virtio devices: the host side is opened before /dev/kvm too
bad "--disk that does not exist" "--disk /nonexistent.img.*No such file" -k "$img/bzImage" --disk /nonexistent.img
bad "--disk that is a directory" "--disk $tmp.*Is a directory" -k "$img/bzImage" --disk "$tmp"
bad "--disk ,ro that is not a file" "--disk /dev/null: not a regular file" -k "$img/bzImage" --disk /dev/null,ro
truncate -s 1M "$tmp/d.img"
bad "the same disk twice" "--disk $tmp/./d.img: the same file as --disk $tmp/d.img" \
    -k "$img/bzImage" --disk "$tmp/d.img" --disk "$tmp/./d.img"
if command -v flock >/dev/null; then
    # this shell holds the lock another VMM would (no process to clean up)
    exec 9<>"$tmp/d.img"
    flock -x 9
    bad "a disk another VM writes" "--disk $tmp/d.img: in use by another VM" -k "$img/bzImage" --disk "$tmp/d.img"
    exec 9>&-
fi
bad "--disk with no path" "no path" -k "$img/bzImage" --disk ,ro
bad "--net without tap=" "expected tap=NAME" -k "$img/bzImage" --net eth0
bad "--net tap name too long" "1 to 15 characters" -k "$img/bzImage" --net tap=abcdefghijklmnop
bad "the same tap twice" "tap t0 given twice" -k "$img/bzImage" --net tap=t0 --net tap=t0
bad "--mac that is not a MAC" "--mac" -k "$img/bzImage" --net tap=t0 --mac 02:00:00:00:00
bad "more --mac than --net" "2 MACs for 1 --net" -k "$img/bzImage" --net tap=t0 --mac 02:00:00:00:00:01 --mac 02:00:00:00:00:02
bad "multicast --mac" "multicast" -k "$img/bzImage" --net tap=t0 --mac 03:00:00:00:00:01

# a read-only file system refuses a read-write disk (a private mount namespace)
if unshare -m true 2>/dev/null; then
    mkdir -p "$tmp/rofs"
    truncate -s 1M "$tmp/rofs/d.img"
    unshare -m sh -c "mount --bind '$tmp/rofs' '$tmp/rofs' && mount -o remount,bind,ro '$tmp/rofs' &&
        exec '$cl' vm run -k '$img/bzImage' --disk '$tmp/rofs/d.img'" </dev/null >"$tmp/rofs.out" 2>"$tmp/rofs.err"
    r=$?
    if [ "$r" = 1 ] && [ "$(wc -l <"$tmp/rofs.err")" = 1 ] && grep -q "d.img (read-write): Read-only file system" "$tmp/rofs.err"; then
        t_pass "bad input: --disk on a read-only file system"
    else
        t_fail "bad input: --disk on a read-only file system" "exit $r: $(cat "$tmp/rofs.err")"
    fi
    # no /dev/net/tun: the tap cannot be made
    unshare -m sh -c "mount -t tmpfs none /dev && exec '$cl' vm run -k '$img/bzImage' --net tap=clt0" \
        </dev/null >"$tmp/notun.out" 2>"$tmp/notun.err"
    r=$?
    if [ "$r" = 1 ] && [ "$(wc -l <"$tmp/notun.err")" = 1 ] && grep -q "tap clt0: /dev/net/tun: No such file" "$tmp/notun.err"; then
        t_pass "bad input: a tap without /dev/net/tun"
    else
        t_fail "bad input: a tap without /dev/net/tun" "exit $r: $(cat "$tmp/notun.err")"
    fi
else
    t_skip "bad input: read-only file system, no /dev/net/tun" "cannot make a mount namespace here"
fi
# in a private network namespace: an interface that is not a tap is
# refused, and the tap the VMM made for the --net before it does not survive
if [ -e /dev/net/tun ] && unshare -n true 2>/dev/null; then
    unshare -n sh -c "'$cl' vm run -k '$img/bzImage' --net tap=clok0 --net tap=lo; r=\$?;
        ip link show clok0 >/dev/null 2>&1 && echo 'clok0 left behind' >&2; exit \$r" \
        </dev/null >"$tmp/lo.out" 2>"$tmp/lo.err"
    r=$?
    if [ "$r" = 1 ] && [ "$(wc -l <"$tmp/lo.err")" = 1 ] && grep -q "tap lo: the interface exists and is not a tap" "$tmp/lo.err"; then
        t_pass "bad input: --net on an interface that is not a tap; the tap made before it is gone"
    else
        t_fail "bad input: --net on a non-tap" "exit $r: $(cat "$tmp/lo.err")"
    fi
else
    t_skip "bad input: --net on a non-tap" "no /dev/net/tun or no network namespaces here"
fi

# /dev/kvm absent: say so and point at the harness (a private mount
# namespace hides /dev/kvm; nothing leaks out of it)
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    unshare -m sh -c "mount -t tmpfs none /dev && exec '$cl' vm run -k '$img/bzImage'" \
        </dev/null >"$tmp/nokvm.out" 2>"$tmp/nokvm.err"
    r=$?
    if [ "$r" = 1 ] && grep -q "/dev/kvm does not exist.*tests/kvmhost/run" "$tmp/nokvm.err"; then
        t_pass "no /dev/kvm: says so and names the KVM-host harness"
    else
        t_fail "no /dev/kvm" "exit $r: $(cat "$tmp/nokvm.err")"
    fi
else
    t_skip "no /dev/kvm" "cannot make a mount namespace here"
fi

# ---- the jail (as root a launch is jailed): bad --uid/--gid/--jail-base,
# a missing cgroup controller; one line, exit 1 or 2, nothing made ----
if [ "$(id -u)" = 0 ]; then
    jb=$tmp/jails
    mkdir -m 0700 "$jb"
    jbad() {   # NAME STATUS PATTERN ARGS...
        local name=$1 want=$2 pat=$3; shift 3
        "$cl" vm run -k "$img/bzImage" "$@" </dev/null >"$tmp/jbad.out" 2>"$tmp/jbad.err"
        local r=$?
        if [ "$r" = "$want" ] && [ "$(wc -l <"$tmp/jbad.err")" = 1 ] && grep -q -- "$pat" "$tmp/jbad.err"; then
            t_pass "jail bad input: $name"
        else
            t_fail "jail bad input: $name" "exit $r: $(cat "$tmp/jbad.err")"
        fi
    }
    jbad "--uid 0" 1 "--uid 0: the jailed VMM does not run as root" --jail-base "$jb" --uid 0
    jbad "--gid 0" 1 "--gid 0: the jailed VMM does not run in group root" --jail-base "$jb" --gid 0
    jbad "--uid -1" 1 "--uid 4294967295: not a valid id" --jail-base "$jb" --uid 4294967295
    jbad "--uid beyond 32 bits" 1 "--uid 4294967296: ids are 32-bit" --uid 4294967296
    jbad "--uid not a number" 2 "--uid" --uid nobody
    jbad "--uid with --no-jail" 1 "go with a jailed launch, not --no-jail" --no-jail --uid 1000
    jbad "--jail-base missing" 1 "--jail-base $tmp/nope: No such file" --jail-base "$tmp/nope"
    jbad "--jail-base a file" 1 "--jail-base $tmp/garbage: not a directory" --jail-base "$tmp/garbage"
    mkdir -m 1777 "$tmp/ww"
    jbad "--jail-base world-writable" 1 "--jail-base $tmp/ww: world-writable" --jail-base "$tmp/ww"
    mkdir -m 0770 "$tmp/gw"
    jbad "--jail-base group-writable" 1 "--jail-base $tmp/gw: group-writable" --jail-base "$tmp/gw"
    jbad "--seccomp strict" 1 "--seccomp 'strict': expected kill, log or off" --seccomp strict
    jbad "a bad kernel, jailed" 1 "kernel $tmp/garbage" --jail-base "$jb" -k "$tmp/garbage"
    # v1 (this machine class): a private mount namespace without the pids hierarchy
    pids=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo)
    if [ -n "$pids" ] && [ -e /dev/kvm ] && unshare -m true 2>/dev/null; then
        unshare -m --propagation private sh -c "umount -l '$pids' && exec '$cl' vm run -k '$img/bzImage' --jail-base '$jb'" \
            </dev/null >"$tmp/nocg.out" 2>"$tmp/nocg.err"
        r=$?
        if [ "$r" = 1 ] && [ "$(wc -l <"$tmp/nocg.err")" = 1 ] &&
            grep -q "jail: cgroup v1: the pids controller is not mounted (needed for the VMM's pids limit)" "$tmp/nocg.err"; then
            t_pass "jail bad input: a missing cgroup controller (pids, v1)"
        else
            t_fail "jail bad input: missing cgroup controller" "exit $r: $(cat "$tmp/nocg.err")"
        fi
    else
        t_skip "jail bad input: missing cgroup controller" "no v1 pids hierarchy, /dev/kvm or mount namespace here (the unit tests cover v1 and v2)"
    fi
    left=$(ls -A "$jb")
    for h in $(awk '$9 ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo); do
        left+=$(ls -d "$h"/cloudlet-vm/vm-* 2>/dev/null)
    done
    [ -z "$left" ] && t_pass "jail bad input: no jail directory or cgroup left" \
        || t_fail "jail bad input: nothing left" "$left"
else
    t_skip "jail bad input" "not root: launches are not jailed"
fi
t_end
