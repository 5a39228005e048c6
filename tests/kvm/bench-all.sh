#!/usr/bin/env bash
# `cloudlet bench all --runs 1` end to end (issue #9's CI smoke): a microVM
# and a container, each with the references found, in one (maybe
# emulated) KVM host. No assertion on timing: only that every column is
# present and sane (positive, finite, the units' relations: ready before
# exit, guest RAM touched within the guest's memory, cost >= cgroup), the
# JSON has every raw sample and the environment, the SVG has the expected
# series, a reference that is absent (crun, hidden from
# PATH) is a note and not an error, and nothing is left behind.
# Needs root and a working /dev/kvm: run through tests/kvmhost/run.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
tmp=$(mktemp -d /dev/shm/cloudlet-bench-all-test.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-bench-all-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for f in "$cl" build/images/bzImage build/images/initramfs.cpio.gz build/images/oci/index.json; do
    [ -e "$f" ] || { t_fail "bench all: $f" "missing (run: make all images)"; t_end; }
done
if [ ! -e /dev/kvm ]; then
    t_skip "bench all" "no /dev/kvm (run through tests/kvmhost/run)"
    t_end
fi
if [ "$(id -u)" != 0 ]; then
    t_skip "bench all" "needs root (jailed VMs, containers)"
    t_end
fi

# PATH without crun: the bench finds runc and QEMU, notes crun's absence
# (sh: the network section's client script)
mkdir "$tmp/bin"
for t in runc qemu-system-x86_64 sh; do
    p=$(command -v $t) && ln -s "$p" "$tmp/bin/$t"
done
cgroups_before=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'cloudlet*' 2>/dev/null | sort)

PATH="$tmp/bin:/usr/sbin:/sbin" TMPDIR=/dev/shm "$cl" bench all --runs 1 --seconds 1 --rr-count 100 \
    --json "$tmp/all.json" --plot "$tmp/all.svg" >"$tmp/out" 2>"$tmp/err"
r=$?
[ "$r" = 0 ] && t_pass "bench all --runs 1 exits 0" || { t_fail "bench all" "exit $r"; cat "$tmp/out"; tail -20 "$tmp/err"; }
grep -qE '^all: round 1/1 done: start-up vm [0-9]+/[0-9]+ ok' "$tmp/err" && t_pass "progress on stderr" \
    || t_fail "progress" "$(head -5 "$tmp/err")"

# the table: every section, every row with one run and figures in each cell
sections_ok=1
for s in '^1\. start-up' '^2\. memory per idle instance' '^3\. network' '^4\. isolation surface'; do
    grep -qE "$s" "$tmp/out" || { sections_ok=0; t_fail "table section $s" "missing"; }
done
[ $sections_ok = 1 ] && t_pass "table: the four sections"
grep -q '^note: crun absent or disabled: skipped' "$tmp/out" && ! grep -q '^ct crun ' "$tmp/out" \
    && t_pass "crun absent: a note, no row, not an error" || t_fail "crun absent" "$(grep -E '^(note|ct crun)' "$tmp/out")"
num='[0-9]+(\.[0-9]+)? \([0-9.]+-[0-9.]+\)'
rows_ok=1
for row in "vm cloudlet +1 +$num +$num +$num" "ct cloudlet +1 +$num +$num +n/a" "ct runc +1 +$num +$num +n/a"; do
    grep -qE "^$row" "$tmp/out" || { rows_ok=0; t_fail "start-up row" "no line like '$row'"; }
done
if [ -n "$(command -v qemu-system-x86_64)" ]; then
    grep -qE "^vm qemu-microvm +1 +$num +$num +$num" "$tmp/out" || { rows_ok=0; t_fail "qemu row" "missing"; }
fi
grep -qE "^vm cloudlet +1 +$num +$num +$num +$num +$num" "$tmp/out" &&
    grep -qE "^ct cloudlet +1 +$num +$num +$num +n/a +$num" "$tmp/out" || { rows_ok=0; t_fail "memory rows" "missing"; }
grep -qE '^ratio .*\(vm cloudlet / ct cloudlet, medians\)' "$tmp/out" || { rows_ok=0; t_fail "VM/ct ratio" "missing"; }
grep -qE '^density in 1024 MiB: [1-9][0-9]* microVMs, [1-9][0-9]* containers \(extrapolated' "$tmp/out" \
    || { rows_ok=0; t_fail "density" "$(grep density "$tmp/out")"; }
[ $rows_ok = 1 ] && t_pass "table: start-up, memory, ratio and density rows, every cell a figure"
if grep -q 'KVM emulated' "$tmp/out"; then
    grep -q 'absolute times are emulation-distorted, read the ratios' "$tmp/out" \
        && t_pass "emulated KVM host: the table says to read the ratios" || t_fail "emulation note" "missing"
fi

# the JSON: every sample positive and within its unit's sense
if jq -e '
    def pos: type == "number" and . > 0;
    .benchmark == "all" and (.environment.kernel | length > 0) and (.environment.cpu | length > 0)
    and (.environment.kvm_host | IN("native", "emulated")) and .environment.tools.runc != null
    and .environment.tools.crun == null and .config.runs == 1
    and ([.startup.series[] | select(.runs == 1)] | length) == (.startup.series | length)
    and all(.startup.series[]; (.ready_ms.samples | length) == 1 and (.ready_ms.samples[0] | pos)
        and (.exit_ms.samples[0] | pos) and .exit_ms.samples[0] >= .ready_ms.samples[0]
        and .ready_ms.samples[0] < 600000)
    and all(.startup.series[] | select(.name | startswith("vm ")); .kvm_exits.samples[0] | pos)
    and all(.startup.series[] | select(.name | startswith("ct ")); has("kvm_exits") | not)
    and all(.memory.series[]; .runs == 1 and (.cost_mib.samples[0] | pos) and (.cgroup_mib.samples[0] | pos)
        and .cost_mib.samples[0] >= .cgroup_mib.samples[0] and (.pss_mib.samples[0] | pos)
        and (.teardown_ms.samples[0] | pos))
    and (.memory.series[0].guest_touched_mib.samples[0] | pos and . <= 256)
    and (.memory.series[1] | has("guest_touched_mib") | not)
    and .memory.density.extrapolated and (.memory.density.vm | pos) and (.memory.density.ct | pos)
    and .network.measured and (.network.series | length) == 7
    and all(.network.series[]; .runs == 1 and (.tx_mbit_s.samples[0] | pos) and (.rx_mbit_s.samples[0] | pos)
        and (.rtt_us.samples[0] | pos))
    and (.isolation | length) == 8
    and all(.isolation[]; (.vm != null or .vm_word != null) and (.ct != null or .ct_word != null)
        and (.why | length > 0))
    and (.isolation[0].vm | pos) and .isolation[0].ct > .isolation[0].vm and .failed == false' \
    "$tmp/all.json" >/dev/null; then
    t_pass "JSON: every sample positive, units consistent, environment and tool versions"
else
    t_fail "JSON" "$(head -c 600 "$tmp/all.json")"
fi
if [ "$(jq -r '.isolation[] | select(.what == "emulated devices") | .vm' "$tmp/all.json")" -gt 0 ] 2>/dev/null &&
   [ "$(jq -r '.isolation[] | select(.what == "namespaces shared with the host") | .ct' "$tmp/all.json")" -lt 8 ] 2>/dev/null; then
    t_pass "isolation: measured on the live instances (devices, namespaces)"
else
    t_fail "isolation facts" "$(jq -c .isolation "$tmp/all.json")"
fi

# the SVG: the expected series (tests/e2e/bench.sh parses a chart as XML
# natively; Python starts slowly from 9p in the emulated host)
want="series-startup-vm-cloudlet series-startup-ct-cloudlet series-startup-ct-runc series-memory-vm-cloudlet series-memory-ct-cloudlet series-network-veth-pair series-network-vm-vm-bridge series-network-vm-ct-bridge"
[ -z "$(command -v qemu-system-x86_64)" ] || want+=" series-startup-vm-qemu-microvm"
have=" $(grep -o 'id="series-[^"]*" class="series"' "$tmp/all.svg" | cut -d'"' -f2 | sort | tr '\n' ' ')"
missing=""
for w in $want; do [[ $have == *" $w "* ]] || missing+=" $w"; done
if head -2 "$tmp/all.svg" | grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' && [ -z "$missing" ] &&
   [[ $have != *series-startup-ct-crun* ]] && [ "$(tail -1 "$tmp/all.svg")" = "</svg>" ]; then
    t_pass "SVG: an svg document with one group per expected series"
else
    t_fail "SVG" "missing:$missing; have:$have"
fi

# nothing left: scratch dirs, cgroups, processes
left=""
ls -d /dev/shm/cloudlet-bench-all.* /run/cloudlet-bench-all.* >/dev/null 2>&1 && left+=" scratch dir"
[ "$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'cloudlet*' 2>/dev/null | sort)" = "$cgroups_before" ] \
    || left+=" cgroups"
pgrep -f 'cloudlet-bench-(idle|[0-9])' >/dev/null && left+=" processes"
[ -z "$left" ] && t_pass "bench all: nothing left (scratch, cgroups, processes)" || t_fail "leftovers" "$left"

# bad input: one line, exit 1, nothing started
"$cl" bench all --runs 0 >/dev/null 2>"$tmp/e0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/e0" && [ "$(wc -l <"$tmp/e0")" = 1 ] \
    && t_pass "bad --runs: one line, exit 1" || t_fail "bad --runs" "exit $r: $(cat "$tmp/e0")"
"$cl" bench all --image "$tmp/no-image" >/dev/null 2>"$tmp/e1"
r=$?
[ "$r" = 1 ] && grep -q "image $tmp/no-image (run: make images): No such file" "$tmp/e1" \
    && t_pass "unknown image: named, exit 1" || t_fail "unknown image" "exit $r: $(cat "$tmp/e1")"
t_end
