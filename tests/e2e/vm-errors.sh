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
t_end
