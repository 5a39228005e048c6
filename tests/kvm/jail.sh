#!/usr/bin/env bash
# The VMM's sandbox end to end (issue #8): a jailed VM boots with disk and
# network working while /proc shows it filtered, unprivileged and rooted in
# its jail; a forbidden syscall kills it with a line naming the syscall
# (the test build, build/tests/kvm/cloudlet-test); --seccomp=log lets the
# same syscall through and names it; --no-jail still filters; and nothing
# (jail directory, cgroup, mount, process) is left after any of them.
# Needs root and a working /dev/kvm: run through tests/kvmhost/run.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
cltest=$root/${BUILD:-build}/tests/kvm/cloudlet-test
img=$root/build/images
tmp=$(mktemp -d /dev/shm/cloudlet-jail-test.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-jail-test.XXXXXX)
base=$tmp/jails     # a jail base of the test's own: what is left in it is ours
ns=cljail-$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
for f in "$cl" "$img/bzImage" "$img/initramfs.cpio.gz" "$img/rootfs.ext4"; do
    [ -e "$f" ] || { t_fail "jail: $f" "missing (run: make all images)"; t_end; }
done
if [ ! -e /dev/kvm ]; then
    t_skip "jail" "no /dev/kvm (run through tests/kvmhost/run)"
    t_end
fi
if [ "$(id -u)" != 0 ]; then
    t_skip "jail" "a jailed launch needs root"
    t_end
fi
mkdir -m 0700 "$base"

kargs="console=ttyS0 reboot=k panic=-1 pci=off"
has() { grep -qa -- "$2" "$tmp/$1.out"; }
lines() { tr -d '\r' <"$tmp/$1.out"; }
show() { echo "--- $1 stdout (tail)"; tail -5 "$tmp/$1.out"; echo "--- $1 stderr"; cat "$tmp/$1.err"; }
# the cgroup hierarchy that holds the VMs' cgroups (v2: one; v1: memory's)
cgroot() {
    local m
    m=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
    local v1
    v1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' /proc/self/mountinfo)
    echo "${v1:-$m}"
}
# nothing of any VM left: jail dirs, cgroups, mounts, VMM processes
nothing_left() {
    local what=""
    [ -z "$(ls -A "$base")" ] || what+=" jail dirs: $(ls "$base" | tr '\n' ' ')"
    for h in $(awk '$9 ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo); do
        [ -z "$(ls -d "$h"/cloudlet-vm/vm-* 2>/dev/null)" ] || what+=" cgroups in $h"
    done
    grep -q "$base" /proc/self/mountinfo && what+=" mounts"
    pgrep -f "$tmp" >/dev/null && what+=" processes"
    [ -z "$what" ] && t_pass "$1: nothing left (jail dir, cgroup, mount, process)" \
        || t_fail "$1: nothing left" "$what"
}

# background_vm NAME VM-RUN-OPTIONS...: an initramfs guest that sleeps, in
# the background, until its ready marker; sets $launcher and $vmm
background_vm() {
    local name=$1; shift
    "$cl" vm run --timeout 120s "$@" -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
        -c "$kargs -- run sleep 60" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
    launcher=$!
    pids+=("$launcher")
    local deadline=$((SECONDS + 120))
    until has "$name" 'cloudlet-ready' || [ $SECONDS -ge $deadline ] || ! kill -0 "$launcher" 2>/dev/null; do sleep 0.5; done
    vmm=$(pgrep -P "$launcher" | head -1)
}

# ---- a jailed VM with disk and network ----------------------------------
# The tap lives in a network namespace of the test's; the launcher joins only
# that (nsenter --net): `ip netns exec` would also hide the cgroup mounts.
cp "$img/rootfs.ext4" "$tmp/disk.ext4"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev cltap0 mode tap
ip -n "$ns" addr add 10.78.0.1/24 dev cltap0
ip -n "$ns" link set cltap0 up
ipcfg="ip=10.78.0.2::10.78.0.1:255.255.255.0::eth0:off"
nsenter --net="/run/netns/$ns" "$cl" vm run --timeout 240s --jail-base "$base" --cpus 2 --mem 256M \
    -k "$img/bzImage" --disk "$tmp/disk.ext4" --net tap=cltap0 \
    -c "$kargs root=/dev/vda rw $ipcfg -- run sh -c \"ping -c 2 -W 10 10.78.0.1; echo jailed > /marker; sync; echo guest-done-\$((40+2)); sleep 600\"" \
    </dev/null >"$tmp/up.out" 2>"$tmp/up.err" &
launcher=$!
pids+=("$launcher")
deadline=$((SECONDS + 180))
# (the console also shows the kernel's command line: wait for what only the guest computes)
until has up guest-done-42 || [ $SECONDS -ge $deadline ] || ! kill -0 "$launcher" 2>/dev/null; do sleep 0.5; done
vmm=$(pgrep -P "$launcher" | head -1)
if has up 'cloudlet-ready kind=vm' && lines up | grep -q '2 packets received' && [ -n "$vmm" ]; then
    t_pass "jailed VM: boots to the ready marker, the guest pings the host over its tap"
else
    t_fail "jailed VM boot" "vmm pid '$vmm'"; lines up | grep -a 'packets\|cloudlet\|ping' ; show up
fi
if [ -n "$vmm" ]; then
    st=/proc/$vmm/status
    field() { awk -v k="$1:" '$1 == k { print $2 }' "$st"; }
    t_eq "jailed VMM: Seccomp 2 (filter mode)" 2 "$(field Seccomp)"
    t_eq "jailed VMM: NoNewPrivs 1" 1 "$(field NoNewPrivs)"
    t_eq "jailed VMM: CapEff 0" 0000000000000000 "$(field CapEff)"
    t_eq "jailed VMM: CapPrm 0" 0000000000000000 "$(field CapPrm)"
    t_eq "jailed VMM: CapBnd 0" 0000000000000000 "$(field CapBnd)"
    uid=$(field Uid)
    [ -n "$uid" ] && [ "$uid" != 0 ] && t_pass "jailed VMM: uid $uid (not root), gid $(field Gid)" \
        || t_fail "jailed VMM: non-zero uid" "Uid: $(grep Uid "$st")"
    # every thread, vCPUs included, has a filter of its own
    modes=$(cat /proc/"$vmm"/task/*/status | awk '$1 == "Seccomp:" { print $2 }' | sort -u | tr '\n' ' ')
    names=$(cat /proc/"$vmm"/task/*/comm | sort | tr '\n' ' ')
    [ "$modes" = "2 " ] && [ "$names" = "cl-vcpu0 cl-vcpu1 cl-vmm " ] \
        && t_pass "jailed VMM: every thread filtered ($names)" \
        || t_fail "jailed VMM: threads" "Seccomp modes '$modes', threads '$names'"
    # its root is the jail directory (same inode), and the jail is empty
    jdir=$(ls -d "$base"/vm-* 2>/dev/null | head -1)
    if [ -n "$jdir" ] && [ "$(stat -L -c %d:%i /proc/"$vmm"/root)" = "$(stat -c %d:%i "$jdir")" ] &&
        [ -z "$(ls -A /proc/"$vmm"/root/)" ]; then
        t_pass "jailed VMM: its root is the empty jail directory $(basename "$jdir")"
    else
        t_fail "jailed VMM: root" "jail '$jdir', root $(stat -L -c %d:%i /proc/"$vmm"/root)"
    fi
    same=""
    for n in mnt pid net ipc uts cgroup; do
        [ "$(readlink /proc/"$vmm"/ns/$n)" = "$(readlink /proc/self/ns/$n)" ] && same+=" $n"
    done
    [ -z "$same" ] && t_pass "jailed VMM: own mount, pid, net, ipc, uts, cgroup namespaces" \
        || t_fail "jailed VMM: namespaces" "shared:$same"
    # the cgroup: guest RAM + the stated overhead, the threads + KVM's worker
    cg=$(cgroot)/cloudlet-vm/$(basename "$jdir")
    if [ -f "$cg/memory.max" ]; then mem=$(cat "$cg/memory.max"); else mem=$(cat "$cg/memory.limit_in_bytes" 2>/dev/null); fi
    pidsdir=$cg
    [ -f "$pidsdir/pids.max" ] || pidsdir=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo)/cloudlet-vm/$(basename "$jdir")
    [ "$mem" = $(( (256 + 64) << 20 )) ] && [ "$(cat "$pidsdir/pids.max" 2>/dev/null)" = 4 ] \
        && t_pass "jailed VMM: cgroup memory limit 320 MiB (256 + 64), pids limit 4" \
        || t_fail "jailed VMM: cgroup" "memory '$mem', pids '$(cat "$pidsdir/pids.max" 2>/dev/null)' in $cg"
    # seen from the root cgroup namespace, the VMM's cgroup path is the full one
    grep -q "/cloudlet-vm/$(basename "$jdir")\$" /proc/"$vmm"/cgroup \
        && t_pass "jailed VMM: in its cgroup" || t_fail "jailed VMM: cgroup membership" "$(cat /proc/"$vmm"/cgroup)"
fi
kill -TERM "$launcher" 2>/dev/null
wait "$launcher"
r=$?
got=$(debugfs -R 'cat /marker' "$tmp/disk.ext4" 2>/dev/null)
[ "$r" = 143 ] && [ "$got" = jailed ] \
    && t_pass "jailed VM: SIGTERM ends it (143); the file the guest wrote is on its disk" \
    || { t_fail "jailed VM: stop and disk" "exit $r, /marker '$got'"; show up; }
nothing_left "jailed VM"
ip netns del "$ns"

# ---- a forbidden syscall after boot kills the VMM, and is named ----------
if [ -x "$cltest" ]; then
    CLOUDLET_TEST_SYSCALL=openat "$cltest" vm run --timeout 120s --jail-base "$base" \
        -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$kargs -- run sleep 60" \
        </dev/null >"$tmp/kill.out" 2>"$tmp/kill.err"
    r=$?
    if [ "$r" = 159 ] && has kill 'cloudlet-ready' && [ "$(wc -l <"$tmp/kill.err")" = 1 ] &&
        grep -q 'seccomp killed the VMM: thread cl-vcpu0 made syscall openat (257)' "$tmp/kill.err"; then
        t_pass "forbidden syscall (test build): the VMM dies, exit 159, one line names openat on cl-vcpu0"
    else
        t_fail "forbidden syscall" "exit $r"; show kill
    fi
    nothing_left "seccomp kill"

    # stdout a pipe this time: RLIMIT_FSIZE then has no console file to size from
    CLOUDLET_TEST_SYSCALL=openat "$cltest" vm run --timeout 120s --jail-base "$base" --seccomp=log \
        -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$kargs -- exit" \
        </dev/null 2>"$tmp/log.err" | cat >"$tmp/log.out"
    r=${PIPESTATUS[0]}
    if [ "$r" = 0 ] && has log 'cloudlet-ready' &&
        grep -q 'seccomp log: thread cl-vcpu0 made syscall openat (257)' "$tmp/log.err"; then
        t_pass "--seccomp=log: the same syscall is let through and named; the guest ends normally"
    else
        t_fail "--seccomp=log" "exit $r"; show log
    fi
else
    t_skip "forbidden syscall" "no $cltest (tests/kvm/run --build)"
fi

# ---- a launcher killed with SIGKILL: its VMM dies with it; the next jailed
# launch removes the jail directory and cgroup it could not ----------------
background_vm sigkill --jail-base "$base"
stale=$(ls -d "$base"/vm-* 2>/dev/null | head -1)
kill -KILL "$launcher"; wait "$launcher" 2>/dev/null
# dead: gone, or a zombie its new parent has not reaped yet
alive() { local s; s=$(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
for _ in $(seq 200); do [ -n "$vmm" ] && alive "$vmm" || break; sleep 0.1; done
if [ -n "$vmm" ] && ! alive "$vmm" && [ -n "$stale" ] && [ -d "$stale" ] &&
    [ -n "$(ls -d "$(cgroot)"/cloudlet-vm/"$(basename "$stale")" 2>/dev/null)" ]; then
    t_pass "launcher SIGKILLed: its VMM died with it; its jail dir and cgroup remain for now"
else
    t_fail "launcher SIGKILLed" "vmm '$vmm' state '$(awk '{ print $3 }' /proc/"$vmm"/stat 2>/dev/null)', jail dir '$stale' $([ -d "$stale" ] && echo exists), cgroup '$(ls -d "$(cgroot)"/cloudlet-vm/* 2>/dev/null | tr '\n' ' ')'"
    show sigkill
    [ -n "$vmm" ] && kill -KILL "$vmm" 2>/dev/null
fi
"$cl" vm run --timeout 120s --jail-base "$base" -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c "$kargs -- exit" </dev/null >"$tmp/after.out" 2>"$tmp/after.err"
t_eq "the next jailed launch runs (exit 0)" 0 $?
nothing_left "the next jailed launch after a SIGKILL (the dead launcher's jail removed)"

# ---- --no-jail: own process, seccomp still on -----------------------------
background_vm nojail --no-jail
if [ -n "$vmm" ] && grep -q '^Seccomp:[[:space:]]*2' /proc/"$vmm"/status &&
    [ "$(readlink /proc/"$vmm"/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; then
    t_pass "--no-jail: the VMM is filtered (Seccomp 2), in the launcher's namespaces"
else
    t_fail "--no-jail" "vmm '$vmm'"; show nojail
fi
kill -TERM "$launcher" 2>/dev/null
wait "$launcher"
t_eq "--no-jail: SIGTERM ends it (143)" 143 $?
nothing_left "--no-jail"

# ---- bench vm-jail, one run each way: both columns, the surface table ----
"$cl" bench vm-jail --runs 1 --json "$tmp/bench.json" >"$tmp/bench.out" 2>"$tmp/bench.err"
r=$?
if [ "$r" = 0 ] && grep -qE '^jailed +1 ' "$tmp/bench.out" && grep -qE '^--no-jail +1 ' "$tmp/bench.out" &&
    grep -qE '^ratio .*\(jailed / --no-jail, medians\)' "$tmp/bench.out" &&
    grep -qE '^vcpu +8 +~27 ' "$tmp/bench.out" && jq -e '.benchmark == "vm-jail"' "$tmp/bench.json" >/dev/null; then
    t_pass "bench vm-jail --runs 1: both launches, their ratio, syscalls per thread vs Firecracker"
else
    t_fail "bench vm-jail" "exit $r: $(cat "$tmp/bench.out" "$tmp/bench.err" | tail -12)"
fi
nothing_left "bench vm-jail"
t_end
