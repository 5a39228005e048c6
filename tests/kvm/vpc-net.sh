#!/usr/bin/env bash
# `cloudlet bench vpc-net` with one round (the VPC's benchmark: TCP between
# containers and microVMs on one subnet bridge and across the VPC router,
# next to a bare veth pair): every column of every row and every ratio
# present, positive and finite, the JSON holds the raw samples, and nothing
# outlives the bench (no VPC namespace, scratch root, link or process).
# No assertion on the figures: the bench reports them. Needs /dev/kvm: run
# through tests/kvmhost/run, which is what the bench checks for its VM pairs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
tmp=$(mktemp -d /run/cloudlet-vpc-net-test.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-vpc-net-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -e /dev/kvm ] || { t_skip "bench vpc-net" "no /dev/kvm (run through tests/kvmhost/run)"; t_end; }
[ "$(id -u)" = 0 ] || { t_skip "bench vpc-net" "needs root"; t_end; }
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "bench vpc-net" "no br_netfilter"; t_end; }
[ -x "$img/rootfs/bin/clperf" ] || { t_fail "bench vpc-net" "$img/rootfs/bin/clperf missing (run: make images)"; t_end; }

netns_before=$(ip netns list | grep -c '^clvpc-')
bench() {
    "$cl" bench vpc-net --runs 1 --seconds 1 --rr-count 50 --timeout 240s --json "$tmp/net.json" \
        </dev/null >"$tmp/out" 2>"$tmp/err"
}
bench
r=$?
# A nested guest under TCG has once died of a triple fault at boot (seen in
# one CI run, vm-vm on the bridge): that is the emulator's, not the VPC's.
# One more run then, said out loud; a second failure fails the test.
if [ "$r" != 0 ] && grep -q 'triple fault (KVM_EXIT_SHUTDOWN)' "$tmp/out" "$tmp/err"; then
    echo "note: bench vpc-net: a nested guest triple-faulted ($(grep -ho 'first: [^(]*triple fault' "$tmp/out" | head -1)); running it once more"
    bench
    r=$?
fi
[ "$r" = 0 ] && t_pass "bench vpc-net --runs 1 exits 0" || t_fail "bench vpc-net" "exit $r: $(tail -3 "$tmp/err")"
sed 's/^/    /' "$tmp/out"

# positive N TEXT: TEXT holds exactly N numbers, each > 0 (an inf or nan
# cell is not a number here, so it makes the count wrong)
positive() {
    local nums
    nums=$(grep -oE '[0-9]+(\.[0-9]+)?' <<<"$2")
    [ "$(wc -l <<<"$nums")" = "$1" ] && awk '{ if (!($1 > 0)) bad = 1 } END { exit bad }' <<<"$nums"
}
rows=("veth pair" "ct-ct, bridge" "vm-vm, bridge" "vm-ct, bridge" "ct-ct, router" "vm-vm, router" "vm-ct, router")
bad=""
for n in "${rows[@]}"; do
    # NAME RUNS, then 3 cells "median (min-max)" = 9 numbers
    row=$(grep -E "^$n +1 " "$tmp/out" | sed -E "s/^$n +1 //")
    positive 9 "$row" || bad+=" [$n: '$row']"
done
[ -z "$bad" ] && t_pass "bench vpc-net: 7 rows (veth pair, 3 pairs per path), 3 columns each, positive and finite" \
    || t_fail "bench vpc-net rows" "$bad"
bad=""
for n in "${rows[@]:1}"; do
    row=$(grep -F "($n / veth pair, medians)" "$tmp/out" | sed -E 's/^ratio +//; s/\(.*//')
    positive 3 "$row" || bad+=" [$n: '$row']"
done
[ -z "$bad" ] && t_pass "bench vpc-net: a ratio to the veth pair for each of the 6 pairs, 3 columns, positive" \
    || t_fail "bench vpc-net ratios" "$bad"
if jq -e '.benchmark == "vpc-net" and (.series | length) == 7
          and all(.series[]; .failed == 0 and ([.tx_mbit_s, .rx_mbit_s, .rtt_us]
                  | all(.samples | length == 1 and .[0] > 0)))
          and (.config | has("note") | not)' "$tmp/net.json" >/dev/null; then
    t_pass "bench vpc-net: JSON with every raw sample, no pair skipped"
else
    t_fail "bench vpc-net: JSON" "$(head -c 400 "$tmp/net.json")"
fi
left=""
[ "$(ip netns list | grep -c '^clvpc-')" = "$netns_before" ] || left+=" netns: $(ip netns list | grep '^clvpc-')"
ls -d /run/cloudlet-bench-net.* >/dev/null 2>&1 && left+=" scratch: $(ls -d /run/cloudlet-bench-net.*)"
pgrep -f 'bench-(srv|cli)-' >/dev/null && left+=" processes: $(pgrep -af 'bench-(srv|cli)-')"
pgrep -x clperf >/dev/null && left+=" clperf: $(pgrep -ax clperf)"
ip -br link | grep -qE '^cl(vh|tp|br)-' && left+=" links"
[ -z "$left" ] && t_pass "bench vpc-net: nothing left (VPC namespace, scratch root, guests, links)" \
    || t_fail "bench vpc-net leftovers" "$left"
t_end
