#!/usr/bin/env bash
# `cloudlet bench ct-start` end to end with one run: every column present
# and sane (positive, finite), the JSON has the raw samples. No assertion on
# timing: that is what the benchmark itself reports. `bench vm-io`'s input
# checks (its run is in tests/kvm/vm.sh: it needs KVM).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh
cl=${CLOUDLET:-$root/build/cloudlet}
tmp=$(mktemp -d /tmp/cloudlet-bench-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -d build/images/oci ] || { t_fail "bench: build/images/oci" "missing (run: make images)"; t_end; }

"$cl" bench ct-start --runs 1 --json "$tmp/ct.json" >"$tmp/out" 2>"$tmp/err"
r=$?
[ "$r" = 0 ] && t_pass "bench ct-start --runs 1 exits 0" || t_fail "bench ct-start" "exit $r: $(tail -2 "$tmp/err")"
row=$(grep '^cloudlet ' "$tmp/out")
if [[ $row =~ ^cloudlet\ +1\ +([0-9.]+)\ \(.*\)\ +([0-9.]+)\ \( ]] &&
   awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[2]}" 'BEGIN { exit !(a > 0 && b >= a) }'; then
    t_pass "table: cloudlet's ready and total times are positive, total >= ready"
else
    t_fail "table row" "'$row'"
fi
if command -v runc >/dev/null; then
    grep -qE '^runc +1 ' "$tmp/out" && grep -qE '^ratio .*\(cloudlet / runc, medians\)' "$tmp/out" \
        && t_pass "runc measured alongside, with a ratio" || t_fail "runc reference" "$(cat "$tmp/out")"
else
    t_skip "runc reference" "runc not installed"
fi
if jq -e '.benchmark == "ct-start" and .series[0].vmm == "cloudlet"
          and (.series[0].reset_ms.samples | length) == 1
          and (.series[0].reset_ms.samples[0] > 0) and (.environment.kernel | length > 0)' \
        "$tmp/ct.json" >/dev/null; then
    t_pass "JSON: raw samples and environment"
else
    t_fail "JSON" "$(head -c 300 "$tmp/ct.json")"
fi
"$cl" bench ct-start --runs 0 >/dev/null 2>"$tmp/err0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/err0" && t_pass "bad --runs: one line, exit 1" \
    || t_fail "bad --runs" "exit $r: $(cat "$tmp/err0")"
# vm-io judges its input before it makes anything (it needs KVM to run:
# tests/kvm/vm.sh runs it once)
"$cl" bench vm-io --runs 0 >/dev/null 2>"$tmp/err0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/err0" && t_pass "vm-io: bad --runs: one line, exit 1" \
    || t_fail "vm-io: bad --runs" "exit $r: $(cat "$tmp/err0")"
"$cl" bench vm-io --clperf "$tmp/no-clperf" >/dev/null 2>"$tmp/err1"
r=$?
[ "$r" = 1 ] && grep -q "$tmp/no-clperf (run: make images): No such file" "$tmp/err1" \
    && t_pass "vm-io: a missing clperf is named, exit 1" || t_fail "vm-io: missing clperf" "exit $r: $(cat "$tmp/err1")"

# `bench all` without KVM where it is not needed: a VM run that fails (a
# kernel that is no kernel) is reported with its error while the container
# runs go on, and the exit at the end is 1; absent references are notes.
# Its full run is tests/kvm/bench-all.sh (it needs KVM).
"$cl" bench all --runs 1 --kernel /etc/hostname --no-reference --seconds 1 --rr-count 50 \
    --json "$tmp/all.json" --plot "$tmp/all.svg" >"$tmp/all.out" 2>"$tmp/all.err"
r=$?
if [ "$r" = 1 ] && grep -qE '^  1 run\(s\) failed; first: vm cloudlet: .*/etc/hostname: not a bzImage' "$tmp/all.out" &&
   grep -qE '^ct cloudlet +1 +[0-9.]+ \(' "$tmp/all.out" && grep -q '^4\. isolation surface' "$tmp/all.out"; then
    t_pass "bench all: a failed VM run is reported, the containers still run, exit 1"
else
    t_fail "bench all: failed run" "exit $r: $(cat "$tmp/all.out" "$tmp/all.err" | head -30)"
fi
grep -q '^note: runc absent or disabled: skipped' "$tmp/all.out" && grep -q 'microVMs not measured' "$tmp/all.out" \
    && t_pass "bench all: skipped references are notes; no density from no sample" \
    || t_fail "bench all: notes" "$(grep -E '^(note|density)' "$tmp/all.out")"
grep -qE '^veth pair +1 +[0-9.]+ \(' "$tmp/all.out" && grep -qE '^ct-ct, bridge +1 +[0-9.]+ \(' "$tmp/all.out" \
    && t_pass "bench all: the network section measures the veth pair and container pairs" \
    || t_fail "bench all: network" "$(sed -n '/^3\. network/,/^4\./p' "$tmp/all.out")"
jq -e '.failed == true and (.startup.series[0].error | test("^vm cloudlet: "))
       and .memory.series[1].runs == 1 and .memory.series[1].cost_mib.samples[0] > 0' "$tmp/all.json" >/dev/null \
    && t_pass "bench all: JSON records the failure and the container's samples" \
    || t_fail "bench all: JSON" "$(head -c 400 "$tmp/all.json")"
# the chart: well-formed XML (Python's parser), an <svg> root, a titled
# group per series that has samples (none for the failed VM)
if ! command -v python3 >/dev/null; then
    t_skip "bench all: SVG" "python3 not installed"
elif python3 - "$tmp/all.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
ids = {g.get("id") for g in root.iter(ns + "g") if g.get("class") == "series"}
want = {"series-startup-ct-cloudlet", "series-memory-ct-cloudlet", "series-network-veth-pair",
        "series-network-ct-ct-bridge"}
assert want <= ids and not any(i.startswith("series-startup-vm") for i in ids), sorted(ids)
assert all(g.find(ns + "title") is not None for g in root.iter(ns + "g"))
EOF
then
    t_pass "bench all: the SVG is valid XML with the series that have samples"
else
    t_fail "bench all: SVG" "$(head -c 300 "$tmp/all.svg")"
fi
left=""
ls -d /run/cloudlet-bench-all.* >/dev/null 2>&1 && left+=" scratch dir"
# its containers' cgroups are cloudlet/cloudlet-bench-* (others' tests may run meanwhile)
[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'cloudlet-bench-*' 2>/dev/null)" ] || left+=" cgroups"
[ -z "$left" ] && t_pass "bench all: nothing left" || t_fail "bench all: leftovers" "$left"
"$cl" bench all --runs 0 >/dev/null 2>"$tmp/allerr"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/allerr" && [ "$(wc -l <"$tmp/allerr")" = 1 ] \
    && t_pass "bench all: bad --runs: one line, exit 1" || t_fail "bench all: bad --runs" "exit $r: $(cat "$tmp/allerr")"
"$cl" bench all --image "$tmp/no-image" >/dev/null 2>"$tmp/allerr"
r=$?
[ "$r" = 1 ] && grep -q "image $tmp/no-image (run: make images): No such file" "$tmp/allerr" \
    && t_pass "bench all: unknown image named, exit 1" || t_fail "bench all: unknown image" "exit $r: $(cat "$tmp/allerr")"
# bench fn, the container flavour (the microVM one needs KVM: make bench)
if [ "$(id -u)" = 0 ]; then
    "$cl" bench fn --kinds ct --runs 2 --count 20 --concurrency 4 --json "$tmp/fn.json" >"$tmp/fnout" 2>"$tmp/fnerr"
    r=$?
    [ "$r" = 0 ] && t_pass "bench fn --kinds ct exits 0" || t_fail "bench fn" "exit $r: $(tail -3 "$tmp/fnerr")"
    row=$(grep '^ct ' "$tmp/fnout")
    [[ $row =~ ^ct\ +([0-9.]+)\ \(([0-9.]+)\)\ +([0-9.]+)\ \(([0-9.]+)\)\ +([0-9.]+) ]] &&
        awk -v c="${BASH_REMATCH[1]}" -v w="${BASH_REMATCH[3]}" -v q="${BASH_REMATCH[5]}" 'BEGIN { exit !(c > 0 && w > 0 && q > 0) }' \
        && t_pass "bench fn: cold and warm p50/p99 and the cold/warm ratio" || t_fail "bench fn row" "'$row'"
    jq -e '.benchmark == "fn" and (.series[0].total_ms.samples | length) == 2
           and (.series[1].total_ms.samples | length) == 20' "$tmp/fn.json" >/dev/null \
        && t_pass "bench fn JSON: 2 cold and 20 warm samples" || t_fail "bench fn JSON" "$(head -c 300 "$tmp/fn.json")"
    t_eq "bench fn left no state root" "" "$(ls -d /run/cloudlet-bench-fn.* 2>/dev/null)"
else
    t_skip "bench fn" "needs root"
fi
# vpc-net natively: the veth pair and the container pairs are measured, the
# VM pairs skipped with a note (KVM is vouched for only by tests/kvmhost/run;
# tests/kvm/vpc-net.sh runs all of it there); nothing left behind
if [ "$(id -u)" = 0 ] && [ -x build/images/rootfs/bin/clperf ]; then
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null
    nsb=$(ip netns list | grep -c '^clvpc-')
    env -u CLOUDLET_KVMHOST "$cl" bench vpc-net --runs 1 --seconds 1 --rr-count 50 --json "$tmp/net.json" \
        >"$tmp/net.out" 2>"$tmp/net.err"
    r=$?
    [ "$r" = 0 ] && t_pass "bench vpc-net --runs 1 without KVM exits 0" || t_fail "bench vpc-net" "exit $r: $(tail -2 "$tmp/net.err")"
    bad=""
    for n in "veth pair" "ct-ct, bridge" "ct-ct, router"; do
        row=$(grep -E "^$n +1 " "$tmp/net.out" | sed -E "s/^$n +1 //")
        nums=$(grep -oE '[0-9]+(\.[0-9]+)?' <<<"$row")
        [ "$(wc -l <<<"$nums")" = 9 ] && awk '{ if (!($1 > 0)) b = 1 } END { exit b }' <<<"$nums" || bad+=" [$n: '$row']"
    done
    grep -qF "(ct-ct, router / veth pair, medians)" "$tmp/net.out" || bad+=" [no ratio line]"
    [ -z "$bad" ] && t_pass "vpc-net: veth pair and container pairs measured, with ratios to the veth pair" \
        || t_fail "vpc-net rows" "$bad"
    grep -qE '^vm-vm, bridge +0 ' "$tmp/net.out" && grep -q '^VM pairs skipped: not run through tests/kvmhost/run' "$tmp/net.out" \
        && jq -e '.config.note | startswith("VM pairs skipped")' "$tmp/net.json" >/dev/null \
        && t_pass "vpc-net: VM pairs skipped with a note (table and JSON)" || t_fail "vpc-net skip note" "$(cat "$tmp/net.out")"
    [ "$(ip netns list | grep -c '^clvpc-')" = "$nsb" ] && ! ls -d /run/cloudlet-bench-net.* >/dev/null 2>&1 \
        && t_pass "vpc-net: no VPC namespace or scratch root left" || t_fail "vpc-net leftovers" "$(ip netns list | grep clvpc-)"
else
    t_skip "bench vpc-net" "needs root and build/images/rootfs/bin/clperf"
fi
"$cl" bench vpc-net --runs 0 >/dev/null 2>"$tmp/err0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/err0" && ! ls -d /run/cloudlet-bench-net.* >/dev/null 2>&1 \
    && t_pass "vpc-net: bad --runs: one line, exit 1, no scratch root left" || t_fail "vpc-net: bad --runs" "exit $r: $(cat "$tmp/err0")"
t_end
