#!/usr/bin/env bash
# `cloudlet bench overlay` and `bench sdn-scale` at tiny sizes, natively as
# root (no KVM: the VM pairs are skipped with a note): every column present
# and sane (positive, finite), the JSON complete, the growth rule's rows;
# and nothing left behind (simulated hosts' namespaces, agents, scratch
# dirs, cgroups), also after SIGINT in the middle of each. No assertion on
# timing: that is what the benchmarks report.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh
cl=${CLOUDLET:-$root/build/cloudlet}
tmp=$(mktemp -d /tmp/cloudlet-sdn-bench-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ "$(id -u)" = 0 ] || { t_skip "sdn-bench" "needs root"; t_end; }
[ -e build/images/oci/index.json ] && [ -x build/images/rootfs/bin/clperf ] ||
    { t_fail "sdn-bench: build/images" "missing (run: make images)"; t_end; }
modprobe br_netfilter 2>/dev/null; modprobe vxlan 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "sdn-bench" "no br_netfilter"; t_end; }

# what the benches may leave: their hosts' namespaces (bench-h1/2 and s01...;
# other tests running meanwhile use other host names), an underlay
# namespace without hosts, their agents, scratch dirs, containers' cgroups
ours() { ip netns list | awk '{print $1}' | grep -E '^cls[hv]-[0-9a-f]{8}-(bench-h[0-9]+|s[0-9]{2})(-|$)' | sort; }
orphans() { # underlay namespaces of no host
    local u
    for u in $(ip netns list | awk '{print $1}' | grep -E '^clsu-'); do
        ip netns list | grep -q "^clsh-${u#clsu-}-" || echo "$u"
    done
}
agents() { pgrep -f 'host agent (--interval [^ ]+ )?(bench-h[0-9]+|s[0-9]{2})$' | sort; }
before_ns=$(ours) before_ag=$(agents) before_or=$(orphans)
left() { # NAME: nothing new since the start
    local l=""
    [ "$(ours)" = "$before_ns" ] || l+=" namespaces: $(comm -13 <(echo "$before_ns") <(ours) | tr '\n' ' ')"
    [ "$(orphans)" = "$before_or" ] || l+=" underlay namespaces: $(orphans | tr '\n' ' ')"
    [ "$(agents)" = "$before_ag" ] || l+=" agents"
    ls -d /run/cloudlet-bench-overlay.* /run/cloudlet-bench-sdn.* >/dev/null 2>&1 && l+=" scratch dirs"
    [ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'cloudlet-bench-*' 2>/dev/null)" ] || l+=" cgroups"
    [ -z "$l" ] && t_pass "$1: nothing left" || t_fail "$1: leftovers" "$l"
}
# NAME LINE: LINE has N positive numbers
positive() { grep -oE '[0-9]+(\.[0-9]+)?' <<<"$2" | awk -v n="$3" '{ c++; if (!($1 > 0)) b = 1 } END { exit b || c != n }'; }

# ---- bench overlay ----
env -u CLOUDLET_KVMHOST "$cl" bench overlay --runs 1 --seconds 1 --rr-count 50 --json "$tmp/ov.json" \
    >"$tmp/ov.out" 2>"$tmp/ov.err"
r=$?
[ "$r" = 0 ] && t_pass "bench overlay --runs 1 exits 0" || t_fail "bench overlay" "exit $r: $(tail -3 "$tmp/ov.err")"
bad=""
for n in "veth pair" "ct-ct, one host's bridge" "ct-ct, across hosts \(VXLAN\)"; do
    row=$(grep -E "^$n +1 " "$tmp/ov.out" | sed -E "s/^$n +1 //")
    positive "$n" "$row" 12 || bad+=" [$n: '$row']"
done
[ -z "$bad" ] && t_pass "overlay: throughput both ways, RTT median and p99 of the veth pair, one bridge and VXLAN" \
    || t_fail "overlay rows" "$bad"
for n in "ct-ct, one host's bridge" "ct-ct, across hosts (VXLAN)"; do
    row=$(grep -F "($n / veth pair, medians)" "$tmp/ov.out")
    positive "$n" "${row%%(*}" 4 && t_pass "overlay: ratios of $n to the veth pair" || t_fail "overlay ratio $n" "'$row'"
done
grep -qE '^vm-vm, across hosts \(VXLAN\) +0 ' "$tmp/ov.out" &&
    grep -q '^VM pairs skipped: not run through tests/kvmhost/run' "$tmp/ov.out" \
    && t_pass "overlay: VM pairs skipped with a note" || t_fail "overlay: VM skip" "$(cat "$tmp/ov.out")"
jq -e '.benchmark == "overlay" and (.series | length) == 5 and .series[0].vmm == "veth pair"
       and ([.series[0,1,2] | .tx_mbit_s.samples[0] > 0 and .rx_mbit_s.samples[0] > 0 and .rtt_us.samples[0] > 0
             and .rtt_p99_us.samples[0] >= .rtt_us.samples[0]]
            | all) and (.config.note | startswith("VM pairs skipped"))' "$tmp/ov.json" >/dev/null \
    && t_pass "overlay: JSON has every pair's samples and the note" || t_fail "overlay JSON" "$(head -c 400 "$tmp/ov.json")"
left "overlay"

# ---- bench sdn-scale: 4 hosts (steps 2, 4), 2 attachments each, 4 VPCs:
# every VPC on two hosts, so a host needs fewer entries than the cloud has ----
"$cl" bench sdn-scale --hosts 4 --per-host 2 --vpcs 4 --changes 2 --interval 200ms --json "$tmp/sc.json" \
    >"$tmp/sc.out" 2>"$tmp/sc.err"
r=$?
[ "$r" = 0 ] && t_pass "bench sdn-scale (4 hosts x 2) exits 0" || t_fail "bench sdn-scale" "exit $r: $(tail -3 "$tmp/sc.err")"
bad=""
for h in 2 4; do
    for c in attach detach "sg rule"; do
        row=$(grep -E "^$h hosts: $c +2 " "$tmp/sc.out" | sed -E "s/^$h hosts: $c +2 //")
        # converge p50/p99, first p50/p99, write p50, affected mean "of" hosts
        [[ $row =~ ^([0-9]+)\ /\ ([0-9]+)\ +([0-9]+)\ /\ ([0-9]+)\ +([0-9.]+)\ +([0-9.]+)\ of\ $h$ ]] &&
            awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[2]}" -v f="${BASH_REMATCH[3]}" \
                -v w="${BASH_REMATCH[5]}" -v n="${BASH_REMATCH[6]}" -v h=$h \
                'BEGIN { exit !(b >= a && a >= f && w > 0 && n >= 1 && n <= h) }' || bad+=" [$h $c: '$row']"
    done
done
[ -z "$bad" ] && t_pass "sdn-scale: p50/p99 per change and host count, sane" || t_fail "sdn-scale rows" "$bad"
rows=$(awk '/^host +local/ { on = 1; next } on && /^s[0-9]+ / { print } /^growth/ { on = 0 }' "$tmp/sc.out")
# per host: 2 local guests in 2 VPCs, each VPC with one guest on one other
# host: 2 routes, 2 FDB and 2 neighbour entries held and needed; 6 guests
# elsewhere in the cloud
[ "$(wc -l <<<"$rows")" = 4 ] && awk '{ if (!($2 == 2 && $3 == 2 && $4 == "2/2" && $5 == "2/2" && $6 == 2 && $7 == 6)) b = 1 }
    END { exit b }' <<<"$rows" && grep -q '^growth: OK' "$tmp/sc.out" \
    && t_pass "sdn-scale: each host holds the entries of its VPCs (2), not of the cloud (6)" \
    || t_fail "sdn-scale per-host rows" "$(sed -n '/^host /,$p' "$tmp/sc.out")"
jq -e '.benchmark == "sdn-scale" and (.steps | length) == 2 and .steps[1].hosts == 4 and .steps[1].attachments == 8
       and ([.steps[].changes[] | (.converge_ms.samples | length) == 2 and .failed == 0
             and .converge_ms.p99 >= .converge_ms.median and (.affected_hosts.samples | min) >= 1] | all)
       and (.steps[0].changes | keys) == ["attach", "detach", "sg_rule"]
       and (.hosts | length) == 4
       and ([.hosts[] | .routes == .routes_needed and .fdb == .fdb_needed and .neigh == .fdb_needed] | all)
       and .growth_ok == true' "$tmp/sc.json" >/dev/null \
    && t_pass "sdn-scale: JSON has every change's samples and the per-host rows" \
    || t_fail "sdn-scale JSON" "$(head -c 600 "$tmp/sc.json")"
left "sdn-scale"

# ---- bad input: one line, exit 1, nothing made ----
t_bad "sdn-scale --hosts 1" 'hosts 1 is out of range 2\.\.' "$cl" bench sdn-scale --hosts 1
t_bad "sdn-scale --vpcs 0" 'vpcs 0 is out of range' "$cl" bench sdn-scale --vpcs 0
t_bad "overlay --runs 0" 'runs 0 is out of range' "$cl" bench overlay --runs 0
left "bad input"

# ---- SIGINT in the middle: what was made goes, exit 128+2 ----
interrupt() { # NAME PATTERN ARGS...: SIGINT once PATTERN is on stderr
    local n=$1 pat=$2; shift 2
    "$cl" bench "$@" >"$tmp/int.out" 2>"$tmp/int.err" &
    local pid=$! i
    for i in $(seq 600); do grep -q "$pat" "$tmp/int.err" && break; sleep 0.1; done
    kill -INT $pid
    wait $pid
    local r=$?
    [ "$r" = 130 ] && t_pass "$n: SIGINT -> exit 130" || t_fail "$n: SIGINT" "exit $r: $(tail -3 "$tmp/int.err")"
    left "$n after SIGINT"
}
interrupt "overlay" "round 1/3: veth pair" overlay --seconds 1 --rr-count 50
interrupt "sdn-scale" "2 hosts: attach 1/" sdn-scale --hosts 4 --per-host 2 --changes 5
t_end
