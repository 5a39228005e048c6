#!/usr/bin/env bash
# End-to-end tests of `cloudlet vm run`: boots the images/ kernel and
# workload with cloudlet's own VMM. Needs a working /dev/kvm: run through
# tests/kvmhost/run (tests/kvm/run does, for the whole batch).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
# scratch on a tmpfs: in the emulated host /tmp is 9p, where each of the
# console's one-byte writes is a round trip, and FIFOs cannot be made
tmp=$(mktemp -d /dev/shm/cloudlet-vm-test.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-vm-test.XXXXXX)
# network namespaces and VMM pids the virtio-net cases make: removed on any exit
nets=() pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for n in "${nets[@]}"; do ip netns del "$n" 2>/dev/null; done
    pkill -f "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
for f in "$cl" "$img/bzImage" "$img/vmlinux" "$img/initramfs.cpio.gz"; do
    [ -e "$f" ] || { t_fail "vm: $f" "missing (run: make all images)"; t_end; }
done
if [ ! -e /dev/kvm ]; then
    t_skip "vm boot" "no /dev/kvm (run through tests/kvmhost/run)"
    t_end
fi

base="console=ttyS0 reboot=k panic=-1 pci=off"
# vmrun NAME ARGS...: boot with a 120 s guard, stdout/stderr/status kept in $tmp/NAME.*
vmrun() {
    local name=$1; shift
    "$cl" vm run --timeout 120s "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? >"$tmp/$name.rc"
}
rc() { cat "$tmp/$1.rc"; }
has() { grep -qa -- "$2" "$tmp/$1.out"; }
show() { echo "--- $1 stdout (tail)"; tail -5 "$tmp/$1.out"; echo "--- $1 stderr"; cat "$tmp/$1.err"; }

# 1 vCPU, bzImage (64-bit boot protocol): ready marker, the workload's
# command runs, guest reboot ends the VMM with 0
vmrun up1 -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$base -- run nproc"
if [ "$(rc up1)" = 0 ] && has up1 'cloudlet-ready kind=vm' && has up1 'cloudlet-exit status=0'; then
    t_pass "bzImage boots to the ready marker and reboots with exit 0"
else
    t_fail "bzImage boot" "exit $(rc up1)"; show up1
fi
# lines from the guest's tty end in \r\n
lines() { tr -d '\r' <"$tmp/$1.out"; }
lines up1 | grep -qx 1 && t_pass "1 vCPU: nproc says 1" || t_fail "1 vCPU: nproc says 1"

vmrun up2 -k "$img/bzImage" -i "$img/initramfs.cpio.gz" --cpus 2 -c "$base -- run grep -c ^processor /proc/cpuinfo"
if [ "$(rc up2)" = 0 ] && lines up2 | grep -qx 2; then
    t_pass "2 vCPUs: the guest sees 2 CPUs"
else
    t_fail "2 vCPUs" "exit $(rc up2)"; show up2
fi

# virtio-rng (present unless --no-rng): a virtio-mmio device from the DSDT,
# its interrupt through an irqfd, its queue served on the event loop
vmrun rng -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c "$base -- run sh -c \"cat /sys/class/misc/hw_random/rng_current; head -c 4096 /dev/hwrng | wc -c\""
if [ "$(rc rng)" = 0 ] && lines rng | grep -qx 'virtio_rng.0' && lines rng | grep -qx 4096; then
    t_pass "virtio-rng: the guest's hw_random uses virtio_rng.0 and /dev/hwrng reads"
else
    t_fail "virtio-rng" "exit $(rc rng)"; show rng
fi

# virtio-blk: boot from a copy of the ext4 image as root=/dev/vda, write a
# file, sync, reboot; after the VMM exits the file is in the image
if command -v debugfs >/dev/null && [ -e "$img/rootfs.ext4" ]; then
    cp "$img/rootfs.ext4" "$tmp/disk.ext4"
    vmrun blk -k "$img/bzImage" --disk "$tmp/disk.ext4" \
        -c "$base root=/dev/vda rw -- run sh -c \"echo persisted > /marker; cat /sys/block/vda/serial; echo; sync\""
    got=$(debugfs -R 'cat /marker' "$tmp/disk.ext4" 2>/dev/null)
    if [ "$(rc blk)" = 0 ] && has blk 'cloudlet-exit status=0' && [ "$got" = persisted ]; then
        t_pass "virtio-blk: root=/dev/vda from the ext4 image; a file written in the guest is in the image"
    else
        t_fail "virtio-blk root disk" "exit $(rc blk), /marker '$got'"; show blk
    fi
    lines blk | grep -qx disk.ext4 && t_pass "virtio-blk: get-id gives the file name (/sys/block/vda/serial)" \
        || t_fail "virtio-blk serial" "$(lines blk | grep -a -A1 marker | head -3)"

    # ,ro: the guest sees a read-only disk it can read, its writes fail,
    # and the image does not change by a byte
    cp "$img/rootfs.ext4" "$tmp/ro.ext4"
    before=$(sha256sum <"$tmp/ro.ext4")
    vmrun blkro -k "$img/bzImage" -i "$img/initramfs.cpio.gz" --disk "$tmp/ro.ext4,ro" \
        -c "$base -- run sh -c \"cat /sys/block/vda/ro; dd if=/dev/vda bs=4096 count=4 2>/dev/null | wc -c; dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; echo write-status=\$?\""
    if [ "$(rc blkro)" = 0 ] && lines blkro | grep -qx 1 && lines blkro | grep -qx 16384 &&
        lines blkro | grep -q '^write-status=[1-9]' && [ "$(sha256sum <"$tmp/ro.ext4")" = "$before" ]; then
        t_pass "virtio-blk ,ro: read-only in the guest, reads work, a write fails, the image is unchanged"
    else
        t_fail "virtio-blk ,ro" "exit $(rc blkro)"; show blkro
    fi
    rm -f "$tmp/disk.ext4" "$tmp/ro.ext4"
else
    t_skip "virtio-blk" "no debugfs or no build/images/rootfs.ext4"
fi

# virtio-net: a tap in a network namespace the test makes (no VM ever sees
# a real network); the VMM runs in it. The guest's address comes from the
# kernel ip= parameter; it pings the host side, then serves TCP echo, which
# the host uses for a 1 MB round trip (both directions' offloads at work).
if ip netns add "clvm-$$" 2>/dev/null; then
    ns=clvm-$$
    nets+=("$ns")
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev cltap0 mode tap
    ip -n "$ns" addr add 10.77.0.1/24 dev cltap0
    ip -n "$ns" link set cltap0 up
    ipcfg="ip=10.77.0.2::10.77.0.1:255.255.255.0::eth0:off"
    nsenter --net="/run/netns/$ns" "$cl" vm run --timeout 240s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
        --net tap=cltap0 -c "$base $ipcfg -- run sh -c \"ping -c 2 -W 10 10.77.0.1 && exec /init serve\"" \
        </dev/null >"$tmp/net.out" 2>"$tmp/net.err" &
    pid=$!
    pids+=("$pid")
    deadline=$((SECONDS + 180))
    until has net 'cloudlet-serving' || [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
    if has net 'cloudlet-serving' && lines net | grep -q '2 packets received'; then
        t_pass "virtio-net: the guest (ip= on the command line) pings the host side of its tap"
    else
        t_fail "virtio-net ping" "$(lines net | grep -a 'packets\|cloudlet' | tr '\n' ' ')"; show net
    fi
    head -c 1000000 /dev/urandom >"$tmp/blob"
    echo=$(ip netns exec "$ns" timeout 60 bash -c \
        'exec 3<>/dev/tcp/10.77.0.2/7 || exit 1; echo hello-echo >&3; read -r -t 20 l <&3; echo "$l"' 2>&1)
    sums=$(ip netns exec "$ns" timeout 120 bash -c \
        'exec 3<>/dev/tcp/10.77.0.2/7 || exit 1; cat "$1" >&3 & head -c 1000000 <&3 | sha256sum; wait' _ "$tmp/blob" 2>&1)
    if [ "$echo" = hello-echo ] && [ "$sums" = "$(sha256sum <"$tmp/blob")" ]; then
        t_pass "virtio-net: TCP echo from the host to the guest round-trips (a line, and 1 MB intact)"
    else
        t_fail "virtio-net TCP echo" "line '$echo', sums '$sums'"; show net
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    r=$?
    [ "$r" = 143 ] && ip -n "$ns" link show cltap0 >/dev/null 2>&1 \
        && t_pass "virtio-net: SIGTERM ends the VMM (143); a tap that existed before is left in place" \
        || t_fail "virtio-net stop" "exit $r, tap: $(ip -n "$ns" link show cltap0 2>&1 | head -1)"

    # a tap that does not exist: the VMM makes it (up), and it is gone once the VMM exits;
    # the guest's MAC is --mac
    nsenter --net="/run/netns/$ns" "$cl" vm run --timeout 120s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
        --net tap=clnew0 --mac 02:00:00:00:00:42 \
        -c "$base -- run sh -c \"cat /sys/class/net/eth0/address; sleep 4\"" \
        </dev/null >"$tmp/newtap.out" 2>"$tmp/newtap.err" &
    pid=$!
    pids+=("$pid")
    seen=no
    deadline=$((SECONDS + 120))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
        ip -n "$ns" link show clnew0 >/dev/null 2>&1 && seen=yes
        sleep 0.5
    done
    wait "$pid"
    r=$?
    if [ "$r" = 0 ] && [ "$seen" = yes ] && ! ip -n "$ns" link show clnew0 >/dev/null 2>&1 &&
        lines newtap | grep -qx 02:00:00:00:00:42; then
        t_pass "virtio-net: a tap the VMM created exists while it runs and is gone after; --mac is the guest's MAC"
    else
        t_fail "virtio-net created tap" "exit $r, seen $seen, after: $(ip -n "$ns" link show clnew0 2>&1 | head -1)"
        show newtap
    fi
    ip netns del "$ns"
else
    t_skip "virtio-net" "cannot create a network namespace here"
fi

# ELF vmlinux through the PVH entry
vmrun pvh -k "$img/vmlinux" -i "$img/initramfs.cpio.gz" -c "$base -- exit"
if [ "$(rc pvh)" = 0 ] && has pvh 'cloudlet-ready kind=vm'; then
    t_pass "vmlinux boots through the PVH entry"
else
    t_fail "PVH boot" "exit $(rc pvh)"; show pvh
fi

# A stock distribution kernel with its usual config: Debian's generic
# kernel, which tests/kvmhost/run already keeps in its cache. It has no
# MP-table-only SMP path to lean on: the vCPUs must come from the MADT.
stock=$(ls "${CLOUDLET_CACHE:-/var/cache/cloudlet}"/kvmhost/kernel/*/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -n "$stock" ]; then
    vmrun stock -k "$stock" -i "$img/initramfs.cpio.gz" --cpus 2 -c "$base quiet -- run grep -c ^processor /proc/cpuinfo"
    if [ "$(rc stock)" = 0 ] && has stock 'cloudlet-ready kind=vm' && lines stock | grep -qx 2; then
        t_pass "stock Debian kernel ($(basename "$stock")) boots with 2 vCPUs"
    else
        t_fail "stock Debian kernel" "exit $(rc stock)"; show stock
    fi
else
    t_skip "stock Debian kernel" "none cached by tests/kvmhost/run"
fi

# init that exits: "Attempted to kill init" panics; pvpanic reports it
vmrun panic -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$base rdinit=/bin/false"
if [ "$(rc panic)" = 10 ] && grep -q 'guest kernel panicked' "$tmp/panic.err"; then
    t_pass "guest panic ends the VMM with status 10 and says so"
else
    t_fail "guest panic" "exit $(rc panic)"; show panic
fi

# Console input: what is written to the VMM's stdin reaches the guest's
# shell on ttyS0 (the UART's receive path). The answer 42 appears only if
# the guest evaluated the command; `exit 7` ends the shell, and with it the
# guest; the shell's status shows only in the guest (the VMM sees a reset).
fifodir=$tmp
mkfifo "$fifodir/in"
exec 3<>"$fifodir/in"
"$cl" vm run --timeout 300s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$base -- shell" \
    <"$fifodir/in" >"$tmp/tty.out" 2>"$tmp/tty.err" &
pid=$!
deadline=$((SECONDS + 240))
until has tty 'cloudlet-ready' || [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
sleep 2   # the shell opens the console after the marker
printf 'echo answer-$((6*7))\n' >&3
deadline=$((SECONDS + 60))
until lines tty | grep -qx 'answer-42' || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
printf 'exit 7\n' >&3
deadline=$((SECONDS + 60))
while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"
r=$?
exec 3>&-
if lines tty | grep -qx 'answer-42' && [ "$r" = 0 ]; then
    t_pass "console input reaches the guest shell; its exit reboots the guest (VMM exit 0)"
else
    t_fail "console input" "exit $r"; show tty
fi

# --timeout ends a guest that does not stop
"$cl" vm run --timeout 8s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$base -- run sleep 1000" \
    </dev/null >"$tmp/to.out" 2>"$tmp/to.err"
r=$?
[ "$r" = 124 ] && grep -q 'timeout' "$tmp/to.err" && t_pass "--timeout: exit 124" || { t_fail "--timeout" "exit $r"; show to; }

# SIGTERM stops the VM cleanly once the guest is up. Deadlines are in
# seconds of wall time, never loop counts: emulated hosts are slow.
"$cl" vm run --timeout 300s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" -c "$base -- run sleep 1000" \
    </dev/null >"$tmp/term.out" 2>"$tmp/term.err" &
pid=$!
deadline=$((SECONDS + 240))
until has term 'cloudlet-ready' || [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
kill -TERM "$pid" 2>/dev/null
deadline=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    t_fail "SIGTERM" "the VMM did not stop within 30 s"; show term
else
    wait "$pid"
    r=$?
    [ "$r" = 143 ] && grep -q 'stopped by SIGTERM' "$tmp/term.err" && has term 'cloudlet-ready' \
        && t_pass "SIGTERM after the guest is up: exit 143" || { t_fail "SIGTERM" "exit $r"; show term; }
fi

# `cloudlet bench vm-io` with one round (the benchmark of the virtio
# devices): every column of every row (cloudlet, QEMU microvm, the ratio)
# present, positive and finite, the JSON has the raw samples, and nothing
# outlives the bench. No assertion on the figures: the bench reports them.
if [ -x "$img/rootfs/bin/clperf" ] && [ -e "$img/rootfs.ext4" ]; then
    "$cl" bench vm-io --runs 1 --seconds 1 --rr-count 50 --timeout 240s --json "$tmp/io.json" \
        </dev/null >"$tmp/io.out" 2>"$tmp/io.err"
    r=$?
    [ "$r" = 0 ] && t_pass "bench vm-io --runs 1 exits 0" || { t_fail "bench vm-io" "exit $r: $(tail -3 "$tmp/io.err")"; cat "$tmp/io.out"; }

    # positive N TEXT: TEXT holds exactly N numbers, each > 0 (an inf or nan
    # cell is not a number here, so it makes the count wrong)
    positive() {
        local nums
        nums=$(grep -oE '[0-9]+(\.[0-9]+)?' <<<"$2")
        [ "$(wc -l <<<"$nums")" = "$1" ] && awk '{ if (!($1 > 0)) bad = 1 } END { exit bad }' <<<"$nums"
    }
    # a row: NAME RUNS, then 4 cells "median (min-max)" = 12 numbers
    row() { grep -E "^$1 +1 " "$tmp/io.out" | sed -E "s/^$1 +1 //"; }
    r=$(row cloudlet)
    positive 12 "$r" && t_pass "bench vm-io: cloudlet's 4 columns (median, min, max) positive and finite" || t_fail "bench vm-io: cloudlet row" "'$r'"
    if command -v qemu-system-x86_64 >/dev/null; then
        r=$(row qemu-microvm)
        positive 12 "$r" && t_pass "bench vm-io: QEMU microvm's 4 columns positive and finite" || t_fail "bench vm-io: qemu row" "'$r'"
        r=$(grep -E '^ratio .*\(cloudlet / qemu-microvm, medians\)$' "$tmp/io.out" | sed -E 's/^ratio +//; s/\(.*//')
        positive 4 "$r" && t_pass "bench vm-io: 4 ratios cloudlet/QEMU, positive and finite" || t_fail "bench vm-io: ratio row" "'$r'"
        nseries=2
    else
        t_skip "bench vm-io: QEMU reference" "qemu-system-x86_64 not installed"
        nseries=1
    fi
    if jq -e --argjson n "$nseries" '.benchmark == "vm-io" and (.series | length) == $n
            and all(.series[]; .failed == 0 and all(.tx_mbit_s, .rx_mbit_s, .rtt_us, .randread_iops;
                (.samples | length) == 1 and .samples[0] > 0))
            and .config.seconds == 1 and .config.rr_count == 50' "$tmp/io.json" >/dev/null; then
        t_pass "bench vm-io: JSON has one raw sample per metric and VMM, and the config"
    else
        t_fail "bench vm-io: JSON" "$(head -c 400 "$tmp/io.json" 2>/dev/null)"
    fi

    # its network namespace had no name and died with its last process
    if pgrep -f 'clperf tcp-server' >/dev/null || pgrep -f 'ifname=clio0' >/dev/null || ip link show clio0 >/dev/null 2>&1; then
        t_fail "bench vm-io: nothing left behind" "$(pgrep -af 'clperf|clio0')"
    else
        t_pass "bench vm-io: nothing left behind (no clperf server, no VMM, no tap)"
    fi
else
    t_skip "bench vm-io" "no build/images/rootfs/bin/clperf or rootfs.ext4 (run: make images)"
fi

pgrep -f "$tmp" >/dev/null && t_fail "no VMM left running" || t_pass "no VMM left running"
t_end
