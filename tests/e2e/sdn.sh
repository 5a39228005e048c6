#!/usr/bin/env bash
# End-to-end tests of the overlay (net/sdn/), natively as root: three
# simulated hosts (namespaces on a shared underlay bridge, 172.31.0.0/16
# inside them only), an agent per host, containers placed with --host.
# Checks: a container on h1 and one on h2 in one subnet ping and complete
# TCP over VXLAN (ARP for the remote guest answered by the local gateway),
# and so do two subnets of one VPC across hosts, over the VPC's one VXLAN
# device; VPCs created at once get distinct VNIs; two VPCs with the same
# CIDR on the same hosts stay isolated; a security group change takes
# effect on the right host; a deleted FDB entry, route and bridge come
# back; an agent restart leaves the data plane alone; removing a host
# removes its entries everywhere; teardown leaves no namespace, link or
# store key. Agents watch the store
# from their last revision: `controller status` shows each one's applied
# revision and last report (a stopped agent is flagged STALE); a revision
# gap (history compacted with `controller compact` while an agent was
# stopped) makes it log a full resync and converge.
# `cloudlet agent --host NAME` is the agent; `host agent NAME` its alias.
# The store: sdn.sh [sqlite|etcd|controller] (default sqlite, the embedded
# one; etcd: Debian's etcd-server started here on 127.0.0.1 with its data
# in the test's directory; controller: `cloudlet controller serve` on
# 127.0.0.1 owning a SQLite store, the CLI and the agents going through its
# HTTP API). etcd and the controller are stopped and restarted: traffic
# must keep flowing, the CLI must refuse changes naming the endpoint, and a
# new attachment must converge once it is back.
# no pipefail: `... | grep -q` ends its producer early (SIGPIPE), which must not
# count as a failure
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

store=${1:-sqlite}
cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images/oci
st=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-sdn-test.XXXXXX")
C=("$cl" --root "$st")
agents=()
cleanup() {
    for c in $("${C[@]}" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
    for v in $("${C[@]}" vpc ls 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" vpc rm --force "$v" >/dev/null 2>&1; done
    for p in "${agents[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for h in $("${C[@]}" host ls 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" host rm "$h" >/dev/null 2>&1; done
    server_stop
    [ -n "${cluster-}" ] && for n in $(ip netns list | awk '{print $1}' | grep -- "-$cluster"); do ip netns del "$n"; done
    if [ "$t_nfail" != 0 ]; then    # the agents' logs, for whoever reads the failure
        mkdir -p /tmp/cloudlet-sdn-logs && cp "$st"/agent-*.log /tmp/cloudlet-sdn-logs/ 2>/dev/null &&
            echo "agent logs: /tmp/cloudlet-sdn-logs" >&2
    fi
    rm -rf "$st"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { t_skip "sdn" "needs root"; t_end; }
[ -e "$img/index.json" ] || { t_fail "sdn: $img" "missing (run: make images)"; t_end; }
modprobe br_netfilter 2>/dev/null; modprobe vxlan 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "sdn" "no br_netfilter"; t_end; }

# etcd on loopback, its data in the test's directory (a restart keeps it)
etcd_pid=
etcd_start() {
    etcd --name cl --data-dir "$st/etcd" --listen-client-urls "http://127.0.0.1:$port" \
        --advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
        --initial-cluster "cl=http://127.0.0.1:$((port + 1))" >>"$st/etcd.log" 2>&1 &
    etcd_pid=$!
    for _ in $(seq 100); do "$cl" host ls >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
etcd_stop() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null; etcd_pid=; }
# the controller process on loopback, owning a SQLite store in the test's directory
ctl_pid=
ctl_start() {
    "$cl" controller serve --store "sqlite:$st/controller.db" --listen "127.0.0.1:$port" >>"$st/controller.log" 2>&1 &
    ctl_pid=$!
    for _ in $(seq 100); do "$cl" host ls >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
# stopped with SIGTERM: it must exit 0 on its own
ctl_stop() { [ -n "$ctl_pid" ] || return 0; kill "$ctl_pid" 2>/dev/null; wait "$ctl_pid"; local r=$?; ctl_pid=; return $r; }
# what the "controller down" parts stop and start: etcd, or the controller
server_start() { case $store in etcd) etcd_start ;; controller) ctl_start ;; esac; }
server_stop() { case $store in etcd) etcd_stop ;; controller) ctl_stop ;; esac; }
free_port() { # a port from $1 on with nothing listening on it or the next one
    local p=$1
    while ss -Hltn | awk '{print $4}' | grep -Eq ":($p|$((p + 1)))\$"; do p=$((p + 2)); done
    echo "$p"
}
# a key put in the store behind the CLI's back (etcdctl, or the controller's API)
store_put() {
    case $store in
    etcd) ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$port" put "$1" "$2" >/dev/null ;;
    controller) curl -sf -d "{\"key\": \"$1\", \"value\": \"$2\"}" "$CLOUDLET_CONTROLLER/v1/cas" >/dev/null ;;
    esac
}
store_keys() { # every key under /cloudlet/ in the store
    case $store in
    etcd) ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$port" get --prefix /cloudlet --keys-only | grep . ;;
    controller) curl -sf -d '{"prefix": "/cloudlet/"}' "$CLOUDLET_CONTROLLER/v1/range" |
        grep -o '"key":"[^"]*"' | cut -d'"' -f4 ;;
    esac
}
case $store in
sqlite) export CLOUDLET_CONTROLLER="sqlite:$st/controller.db" ;;
etcd)
    command -v etcd >/dev/null || { t_skip "sdn (etcd)" "no etcd (apt-get install etcd-server)"; t_end; }
    port=$(free_port $((20000 + $$ % 20000)))
    export CLOUDLET_CONTROLLER="etcd:http://127.0.0.1:$port"
    etcd_start || { t_fail "etcd on 127.0.0.1:$port" "did not start: $(tail -3 "$st/etcd.log")"; t_end; }
    ;;
controller)
    port=$(free_port $((20000 + $$ % 20000)))
    export CLOUDLET_CONTROLLER="http://127.0.0.1:$port"
    ctl_start || { t_fail "controller on 127.0.0.1:$port" "did not start: $(tail -3 "$st/controller.log")"; t_end; }
    ;;
*) t_fail "sdn: store '$store'" "unknown (sqlite|etcd|controller)"; t_end ;;
esac

# ---- hosts ----
bad() { # NAME PATTERN ARGS...: fails with status 1 and one line matching PATTERN
    local n=$1 pat=$2; shift 2
    local out; out=$("${C[@]}" "$@" 2>&1); local r=$?
    if [ $r = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -Eq "$pat" <<<"$out"; then
        t_pass "bad input: $n"
    else
        t_fail "bad input: $n" "exit $r: $out"
    fi
}
for h in h1 h2 h3; do t_check "host add $h" "${C[@]}" host add $h; done
t_eq "host ls lists three hosts" 3 "$("${C[@]}" host ls | awk 'NR>1' | wc -l)"
# the store's cluster id, in its namespaces' names (other runs have their own)
cluster=$("${C[@]}" controller status | awk '$1 == "cluster" {print $2}')
[[ $cluster =~ ^[0-9a-f]{8}$ ]] || { t_fail "controller status: cluster" "'$cluster'"; cluster=; t_end; }
t_check "each host has an underlay address (h1 pings h2 on the underlay)" \
    ip netns exec "clsh-$cluster-h1" busybox ping -c1 -W2 172.31.0.3
bad "host name too long" "name too long" host add a-host-name-much-too-long-x
bad "host exists" "host h1 exists" host add h1
bad "unknown host" "no such host" host rm nosuch
bad "compact a future revision" "compact 99999999: a future revision \(the store is at [0-9]+\)" \
    controller compact --revision 99999999
out=$(CLOUDLET_CONTROLLER="sqlite:$st/nosuch/c.db" "$cl" --root "$st" controller status 2>&1); r=$?
[ $r = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "controller sqlite:$st/nosuch/c.db: " <<<"$out" &&
    [ ! -e "$st/nosuch" ] && t_pass "bad input: controller status on a store that cannot open names it" ||
    t_fail "bad input: controller status on a store that cannot open" "exit $r: $out"
if [ "$store" = controller ]; then
    bad "controller serve: a bad --listen" "^cloudlet: listen address 'nope': expected IPV4:PORT$" \
        controller serve --store "sqlite:$st/other.db" --listen nope
    t_eq "and no store is created" "" "$(ls "$st/other.db" 2>/dev/null)"
    bad "controller serve: its port in use" "cannot listen on 127.0.0.1:$port" \
        controller serve --store "sqlite:$st/controller.db" --listen "127.0.0.1:$port"
    bad "controller serve: an unreachable store" "^cloudlet: controller etcd:http://127.0.0.1:1: unreachable" \
        controller serve --store etcd:http://127.0.0.1:1 --listen "127.0.0.1:$((port + 1))"
    bad "controller serve: itself as its store" "a controller cannot be its own store" \
        controller serve --store "$CLOUDLET_CONTROLLER" --listen "127.0.0.1:$((port + 1))"
    t_eq "the controller's health: its store and revision" "sqlite:$st/controller.db" \
        "$(curl -sf "$CLOUDLET_CONTROLLER/v1/health" | grep -o '"store":"[^"]*"' | cut -d'"' -f4)"
    out=$(curl -s -o /dev/null -w '%{http_code}' -d '{"prefix": 3}' "$CLOUDLET_CONTROLLER/v1/range")
    t_eq "a bad request to the controller: HTTP 400" 400 "$out"
fi
out=$(env -u CLOUDLET_CONTROLLER "$cl" --root "$st" host ls 2>&1); r=$?
[ $r = 1 ] && grep -q "no controller configured (set CLOUDLET_CONTROLLER" <<<"$out" &&
    t_pass "bad input: no controller" || t_fail "bad input: no controller" "exit $r: $out"

# ---- VPCs: two with the same CIDR ----
t_check "vpc create v1" "${C[@]}" vpc create v1 --cidr 10.30.0.0/16
t_check "v1 subnet a" "${C[@]}" vpc subnet create v1/a --cidr 10.30.1.0/24
t_check "vpc create v2, same CIDR" "${C[@]}" vpc create v2 --cidr 10.30.0.0/16
t_check "v2 subnet a, same CIDR" "${C[@]}" vpc subnet create v2/a --cidr 10.30.1.0/24
t_check "sg create v1/locked" "${C[@]}" vpc sg create v1/locked
vni_of() { "${C[@]}" vpc show "$1" | awk '$1 == "vpc" && $4 == "vni" {print $5}'; }
vnis=$(vni_of v1)/$(vni_of v2)
[[ $vnis =~ ^[0-9]+/[0-9]+$ ]] && [ "${vnis%/*}" != "${vnis#*/}" ] &&
    t_pass "the two VPCs have distinct VNIs ($vnis)" || t_fail "distinct VNIs" "$vnis"
t_check "v1 subnet b (same VPC, same VNI)" "${C[@]}" vpc subnet create v1/b --cidr 10.30.2.0/24
t_eq "a subnet adds no VNI" "$vnis" "$(vni_of v1)/$(vni_of v2)"

# ---- VNIs: VPCs created at once each claim their own ----
pids=()
for i in 1 2 3 4 5 6; do
    "${C[@]}" vpc create race$i --cidr 10.4$i.0.0/16 >"$st/race$i.out" 2>&1 & pids+=($!)
done
ok=0; for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
t_eq "six vpc create at once all succeed" 6 "$ok"
all=$(for v in v1 v2 race1 race2 race3 race4 race5 race6; do vni_of $v; done)
t_eq "eight VPCs, eight distinct VNIs ($(echo $all))" "8 8" "$(grep -c . <<<"$all") $(sort -u <<<"$all" | grep -c .)"
for i in 1 2 3 4 5 6; do "${C[@]}" vpc rm race$i >/dev/null || t_fail "vpc rm race$i"; done
t_check "a VNI freed by vpc rm is claimed again" "${C[@]}" vpc create race7 --cidr 10.47.0.0/16
t_eq "race7's VNI is the lowest free one (race1's)" "$(sort -n <<<"$all" | sed -n 3p)" "$(vni_of race7)"
"${C[@]}" vpc rm race7 >/dev/null
t_eq "no namespace on a host before a guest is there" "" "$(ip netns list | grep "clsv-$cluster" || true)"

agent() { # HOST [alias]: start its agent, logging to $st/agent-HOST.log
    if [ "${2-}" = alias ]; then
        "$cl" --root "$st" host agent "$1" --interval 500ms --report 1s >>"$st/agent-$1.log" 2>&1 &
    else
        "$cl" --root "$st" agent --host "$1" --interval 500ms --report 1s >>"$st/agent-$1.log" 2>&1 &
    fi
    agents+=($!)
    eval "agent_$1=$!"
}
for h in h1 h2 h3; do agent $h; done

serve() { # NAME HOST NET [ARGS]: a detached echo server on HOST; waits until it serves
    local n=$1 h=$2 net=$3; shift 3
    "${C[@]}" ct run -d --name "$n" --host "$h" --net "$net" "$@" "$img" serve >/dev/null || return 1
    for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/$n/log" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
ctrun() { local h=$1 net=$2; shift 2; "${C[@]}" ct run --host "$h" --net "$net" "$img" run "$@" 2>&1; }
reach() { # HOST NET IP: a container there pings IP and completes a TCP echo on port 7
    local out; out=$(ctrun "$1" "$2" sh -c "ping -c2 -W3 $3 >/dev/null && echo hello | nc -w 5 $3 7")
    grep -qx hello <<<"$out" || { echo "$out" | sed 's/^/    /' >&2; return 1; }
}
tcp7() { local o; o=$(ctrun "$1" "$2" sh -c "echo hello | nc -w 3 $3 7"); grep -qx hello <<<"$o"; }
twice() { "$@" || "$@"; }
ip_of() { "${C[@]}" vpc show "$1" | awk -v id="$2" '$1 ~ /^(ct|vm)$/ && $2 == id {print $5; exit}'; }
converged() { # VPC: until every attachment's (live) host has applied the VPC's last change
    for _ in $(seq 100); do
        "${C[@]}" vpc show "$1" | awk '$1 ~ /^(ct|vm)$/ && $7 == "no" {n++} END {exit n > 0}' && return 0
        sleep 0.1
    done
    return 1
}
applied() { # VPC ID: until the agent of the guest's host has applied the VPC's last change
    for _ in $(seq 100); do
        "${C[@]}" vpc show "$1" | awk -v id="$2" '$2 == id {print $7}' | grep -qx yes && return 0
        sleep 0.1
    done
    return 1
}

bad "ct run on an unknown host" "no such host" ct run --host nosuch --net v1/a "$img" run true
bad "ct run with a controller and no --host" "say where with --host" ct run --net v1/a "$img" run true

# ---- one subnet across hosts ----
t_check "server s1 on h1 (v1/a)" serve s1 h1 v1/a
t_check "server s1b on h2 (v1/a)" serve s1b h2 v1/a
t_check "a sleeper on h1 (v1/a)" "${C[@]}" ct run -d --name x1 --host h1 --net v1/a "$img" run sleep 3600
t_check "server s1c on h3 (v1/a)" serve s1c h3 v1/a
t_check "server s2 on h1 (v2/a, same CIDR)" serve s2 h1 v2/a
s1=$(ip_of v1 s1) s1c=$(ip_of v1 s1c)
t_eq "s1 and s2 have the same address in their VPCs" "$s1" "$(ip_of v2 s2)"
t_check "vpc show: s1 applied on its host" applied v1 s1
t_check "container on h2 -> container on h1, one subnet: ping + TCP over VXLAN" twice reach h2 v1/a "$s1"
t_check "container on h3 -> container on h2" twice reach h3 v1/a "$(ip_of v1 s1b)"
mtu=$(ctrun h2 v1/a sh -c 'cat /sys/class/net/eth0/mtu' | grep -x '[0-9]*')
t_eq "guest MTU is the underlay's less 50" 1450 "$mtu"

# ---- isolation: v2's guest on h2 ----
t_check "v2: container on h2 -> s2 on h1 (its own VPC)" twice reach h2 v2/a "$s1"
if ctrun h2 v2/a sh -c "ping -c2 -W2 $s1c" | grep -q ' 0% packet loss'; then
    t_fail "v2 cannot reach v1's $s1c (on h3)" "it answered"
else
    t_pass "v2 cannot reach v1's $s1c (on h3)"
fi
t_check "all hosts applied v1" converged v1
# h2's v1 namespace: the one with an entry towards h3 (only v1 has a guest there)
h2v1=$(for n in $(ip netns list | awk '{print $1}' | grep "^clsv-$cluster-h2-"); do
    ip netns exec "$n" bridge fdb show 2>/dev/null | grep -q "dst 172.31.0.4" && echo "$n"; done | head -1)
vxs=$(ip -n "$h2v1" -o link show type vxlan | awk -F': ' '{print $2}' | cut -d@ -f1)
t_eq "h2's v1 namespace: one VXLAN device for the VPC" 1 "$(grep -c . <<<"$vxs")"
t_eq "it is no bridge port (routed, not bridged)" "" "$(ip -n "$h2v1" -o link show "$vxs" | grep -o 'master [^ ]*')"
t_eq "its VNI is v1's" "${vnis%/*}" "$(ip -n "$h2v1" -d link show "$vxs" | grep -o 'vxlan id [0-9]*' | cut -d' ' -f3)"
t_eq "no learning on it" 1 "$(ip -n "$h2v1" -d link show "$vxs" | grep -c 'nolearning')"
fdbs=$(ip netns exec "$h2v1" bridge fdb show | grep -c 'dst 172.31')
t_eq "h2's v1 namespace: one static FDB entry per remote host of v1 (h1, h3)" 2 "$fdbs"
t_eq "and one permanent neighbour entry per remote VTEP" 2 \
    "$(ip -n "$h2v1" neigh show dev "$vxs" nud permanent | grep -c '^172\.31\.')"
routes=$(ip -n "$h2v1" route show dev "$vxs")
t_eq "one /32 route per remote v1 guest (s1, x1, s1c), onlink to its host's VTEP" 3 \
    "$(grep -cE '^10\.30\.1\.[0-9]+ via 172\.31\.0\.[0-9]+ proto static onlink' <<<"$routes")"
t_eq "no flood entry (00:00:00:00:00:00): broadcast stays on the host" 0 \
    "$(ip netns exec "$h2v1" bridge fdb show | grep -c '^00:00:00:00:00:00')"
# ARP for a guest on h1 is answered on h2 by the (anycast) gateway: the
# container's ARP table holds the gateway's MAC for it
brmac=$(ip -n "$h2v1" -o link show "$(ip -n "$h2v1" -o addr show | awk '$4 == "10.30.1.1/24" {print $2}')" |
    grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
arp=$(ctrun h2 v1/a sh -c "ping -c1 -W3 $s1 >/dev/null; cat /proc/net/arp" | awk -v ip="$s1" '$1 == ip {print $4}')
t_eq "ARP for s1 (on h1) is answered on h2, with the gateway's MAC" "$brmac" "$arp"
h1v1=${h2v1/-h2-/-h1-}
t_eq "the gateway's MAC is the same on h1 (anycast)" 1 \
    "$(ip -n "$h1v1" -o link show type bridge | grep -c "link/ether $brmac ")"

# ---- two subnets of one VPC across hosts ----
t_check "server sb on h3 in v1/b" serve sb h3 v1/b
sb=$(ip_of v1 sb)
t_check "container on h1 in v1/a -> sb on h3 in v1/b: ping + TCP (routed over the one VXLAN device)" \
    twice reach h1 v1/a "$sb"
t_check "and v1/b on h2 -> s1 on h1 in v1/a" twice reach h2 v1/b "$s1"
"${C[@]}" ct rm -f sb >/dev/null 2>&1

# ---- security group change on the controller, effective on h3 ----
t_check "server locked on h3 in sg locked" serve locked h3 v1/a --sg locked
lk=$(ip_of v1 locked)
if tcp7 h2 v1/a "$lk"; then t_fail "sg locked: no ingress rule, TCP refused" "it answered"
else t_pass "sg locked: no ingress rule, TCP refused"; fi
t_check "sg rule add on the controller" "${C[@]}" vpc sg rule add v1/locked --ingress --proto tcp --port 7
t_check "h3's agent applies it" applied v1 locked
t_check "now TCP to the locked server passes" twice tcp7 h2 v1/a "$lk"

# ---- --rate: a tbf qdisc on the guest's port, an nft limit on its own
# traffic, kept by the agent ----
t_check "server slow on h2 with --rate 20" serve slow h2 v1/a --rate 20
tbf() { ip netns exec "$h2v1" tc qdisc show | grep 'tbf' | grep -q 'rate 20Mbit'; }
# the agent sets it once the launcher has plugged the port (its next pass)
waitfor() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; return 1; }
waitfor_long() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
t_check "its port gets a 20 Mbit/s tbf" waitfor tbf
police() { ip netns exec "$h2v1" nft list table bridge cloudlet | grep -q 'limit rate over 2500 kbytes/second burst 32 kbytes drop comment "--rate"'; }
t_check "  ... and its own traffic is policed at 20 Mbit/s where it enters the bridge" waitfor police
dev=$(ip netns exec "$h2v1" tc qdisc show | awk '/tbf/ {print $5; exit}')
t_check "deleted by hand" ip netns exec "$h2v1" tc qdisc del dev "$dev" root
back=0
for _ in $(seq 50); do tbf && { back=1; break; }; sleep 0.1; done
t_eq "a qdisc deleted by hand is restored" 1 "$back"
"${C[@]}" ct rm -f slow >/dev/null 2>&1
out=$(env -u CLOUDLET_CONTROLLER "$cl" --root "$st" ct run --rate 5 --net v1/a "$img" run true 2>&1); r=$?
[ $r = 1 ] && grep -q "rate: needs a controller" <<<"$out" && t_pass "bad input: --rate without a controller" ||
    t_fail "bad input: --rate without a controller" "exit $r: $out"

# ---- a machine of its own (`host add --address`): nothing simulated; its
# agent runs in the machine's network namespace (here a namespace of the
# test's, on the underlay bridge, standing in for a second machine) ----
# The store must be reachable from the machine's namespace: an sqlite file
# is; etcd and the controller listen on this namespace's loopback only, and
# the machine path does not depend on the store.
if [ "$store" = sqlite ]; then
    mach=clmach-$cluster
    ip netns add "$mach"
    ip link add clmu0 netns "clsu-$cluster" type veth peer name eth0 netns "$mach"
    ip -n "clsu-$cluster" link set clmu0 master ul0 up
    ip -n "$mach" addr add 172.31.9.9/16 dev eth0
    ip -n "$mach" link set eth0 up; ip -n "$mach" link set lo up
    t_check "host add m1 --address 172.31.9.9" "${C[@]}" host add m1 --address 172.31.9.9
    t_eq "host ls: m1 is a machine" "172.31.9.9 machine" "$("${C[@]}" host ls | awk '$1 == "m1" {print $2, $3}')"
    t_eq "  ... and nothing simulated was made for it" "" "$(ip netns list | awk '{print $1}' | grep -x "clsh-$cluster-m1" || true)"
    bad "host add: an address another host has" "address 172.31.9.9 is host m1's" host add m2 --address 172.31.9.9
    bad "host add: --address that is not an IPv4 address" "address" host add m2 --address 172.31.9
    # nsenter --net, not `ip netns exec`: the latter also gives the agent a
    # mount namespace of its own, where the VPC namespaces it names would not
    # be seen by the launchers (on a real machine both share one)
    nsenter --net="/run/netns/$mach" "$cl" --root "$st" agent --host m1 --interval 500ms >>"$st/agent-m1.log" 2>&1 & agents+=($!); agent_m1=$!
    t_check "server sm on machine m1 (v1/a)" serve sm m1 v1/a
    smip=$(ip_of v1 sm)
    t_check "h1 -> the container on machine m1: ping and TCP" twice reach h1 v1/a "$smip"
    t_check "machine m1 -> the container on h1: ping and TCP" twice reach m1 v1/a "$(ip_of v1 s1)"
    vx=$(ip netns exec "$mach" ip -d link show 2>/dev/null | grep -c vxlan || true)
    t_eq "m1's VXLAN device is not in the machine's own namespace (it is in the VPC's)" 0 "$vx"
    # its agent started on another machine (here: this one's own namespace)
    # says so each pass and builds nothing
    "$cl" --root "$st" agent --host m1 --interval 500ms >"$st/agent-wrong.log" 2>&1 & wp=$!
    for _ in $(seq 50); do grep -q "is not on this machine" "$st/agent-wrong.log" && break; sleep 0.1; done
    kill "$wp" 2>/dev/null; wait "$wp" 2>/dev/null
    grep -q "host m1: its address 172.31.9.9 is not on this machine (run its agent there)" "$st/agent-wrong.log" &&
        t_pass "m1's agent on the wrong machine says so" || t_fail "m1's agent elsewhere" "$(head -3 "$st/agent-wrong.log")"
    "${C[@]}" ct rm -f sm >/dev/null 2>&1
    kill "$agent_m1" 2>/dev/null; wait "$agent_m1" 2>/dev/null
    t_check "host rm m1" "${C[@]}" host rm m1
    t_eq "m1's VPC namespace is gone with it" "" "$(ip netns list | awk '{print $1}' | grep "^clsv-$cluster-m1-" || true)"
    t_check "h1's route to m1's guest is gone" waitfor bash -c "! ip netns exec '$h1v1' ip route | grep -q '$smip'"
    ip netns del "$mach"
fi

# ---- a launcher killed with SIGKILL: h2's agent releases its guest ----
ids() { "${C[@]}" vpc show v1 | awk '$1 == "ct" {print $2}' | sort; }
before=$(ids)
"${C[@]}" ct run --host h2 --net v1/a "$img" run sleep 600 >/dev/null 2>&1 &
kpid=$!
victim=
for _ in $(seq 100); do victim=$(comm -13 <(echo "$before") <(ids) | head -1); [ -n "$victim" ] && break; sleep 0.1; done
vip=$("${C[@]}" vpc show v1 | awk -v id="$victim" '$2 == id {print $5}')
route_h1() { ip -n "$h1v1" route show | grep -c "^$vip via 172\.31\.0\.3 "; }
has_route() { [ "$(route_h1)" = 1 ]; }
t_check "a guest on h2 ($victim, $vip) has a route on h1" waitfor has_route
kill -KILL "$kpid"; wait "$kpid" 2>/dev/null
gone() { [ -z "$("${C[@]}" vpc show v1 | awk -v id="$victim" '$2 == id')" ] && [ "$(route_h1)" = 0 ]; }
released=0
for _ in $(seq 100); do gone && { released=1; break; }; sleep 0.1; done
t_eq "its launcher SIGKILLed: released, its route leaves h1" 1 "$released"
"${C[@]}" ct rm -f "$victim" >/dev/null 2>&1

# ---- drift repair ----
vx=$(ip netns exec "$h2v1" bridge fdb show | awk '/dst 172.31.0.2/{print $1, $3; exit}')
mac=${vx% *} dev=${vx#* }
ip netns exec "$h2v1" bridge fdb del "$mac" dev "$dev" self
back=0
for _ in $(seq 50); do ip netns exec "$h2v1" bridge fdb show dev "$dev" | grep -q "^$mac dst" && { back=1; break; }; sleep 0.1; done
t_eq "an FDB entry deleted by hand is restored" 1 "$back"
rt=$(ip -n "$h2v1" route show dev "$vxs" | head -1)
ip -n "$h2v1" route del ${rt%% *}
back=0
for _ in $(seq 50); do ip -n "$h2v1" route show dev "$vxs" | grep -qx "$rt" && { back=1; break; }; sleep 0.1; done
t_eq "a route deleted by hand is restored (${rt%% *})" 1 "$back"
ip -n "$h2v1" route add 10.30.9.0/24 dev "$vxs"
gone=0
for _ in $(seq 50); do ip -n "$h2v1" route show dev "$vxs" | grep -q '^10\.30\.9\.0/24' || { gone=1; break; }; sleep 0.1; done
t_eq "a route added by hand to the VXLAN device is removed" 1 "$gone"
pbr=$(ip -n "$h2v1" -o link show type bridge | awk -F': ' '{print $2}' | head -1)
ip netns exec "$h2v1" sh -c "echo 0 > /proc/sys/net/ipv4/conf/$pbr/proxy_arp"
back=0
for _ in $(seq 50); do [ "$(ip netns exec "$h2v1" cat /proc/sys/net/ipv4/conf/$pbr/proxy_arp 2>/dev/null)" = 1 ] && { back=1; break; }; sleep 0.1; done
t_eq "proxy ARP turned off by hand on a gateway comes back" 1 "$back"
br=$(ip -n "$h2v1" -o link show type bridge | awk -F': ' '{print $2}' | head -1)
ip -n "$h2v1" link del "$br"
back=0
for _ in $(seq 50); do ip -n "$h2v1" link show "$br" >/dev/null 2>&1 && { back=1; break; }; sleep 0.1; done
t_eq "a bridge deleted by hand is restored" 1 "$back"
t_check "and its guests reach across hosts again" twice reach h1 v1/a "$(ip_of v1 s1b)"
# the guests above are gone: no ruleset change in flight (an agent records
# how nft lists what it applied; a flush between the two would be taken in)
t_check "all hosts applied v1 before the hand edit" converged v1
ip netns exec "$h2v1" nft flush table inet cloudlet
back=0
for _ in $(seq 50); do ip netns exec "$h2v1" nft list table inet cloudlet | grep -q 'jump in_' && { back=1; break; }; sleep 0.1; done
t_eq "nft rules flushed by hand are restored" 1 "$back"

# ---- agent restart: a resync, not a flush ----
# a client on h1 talking to s1b on h2 all along (its entries are installed)
s1b=$(ip_of v1 s1b)
"${C[@]}" ct run -d --name talker --host h1 --net v1/a "$img" run sh -c \
    "while true; do echo hello | nc -w 1 $s1b 7 | grep -q hello && echo ok; sleep 0.2; done" >/dev/null
oks() { grep -c "^ok$" "$st/ct/talker/log" 2>/dev/null; }
t_check "all hosts applied the talker" converged v1
sleep 1
kill "$agent_h2"; wait "$agent_h2" 2>/dev/null
a=$(oks); sleep 2; b=$(oks)
[ "$b" -gt "$a" ] && t_pass "with h2's agent stopped, traffic keeps flowing ($a -> $b exchanges)" ||
    t_fail "with h2's agent stopped, traffic keeps flowing" "$a -> $b"
lines=$(wc -l <"$st/agent-h2.log")
agent h2 alias
sleep 2
t_eq "the restarted agent deletes and re-adds nothing" "" \
    "$(tail -n +$((lines + 1)) "$st/agent-h2.log" | grep -E ': (del|add) ' || true)"
a=$(oks); sleep 1; b=$(oks)
[ "$b" -gt "$a" ] && t_pass "and the traffic flows on" || t_fail "and the traffic flows on" "$a -> $b"
if [ -n "${DEBUG-}" ]; then
    "${C[@]}" vpc show v1 >&2
    for n in $(ip netns list | awk '{print $1}' | grep "^clsv-$cluster-h[12]-"); do
        echo "== $n" >&2; ip netns exec "$n" bridge fdb show | grep -v 33:33 >&2; ip -n "$n" neigh >&2; ip -n "$n" -br link >&2
    done
fi
"${C[@]}" ct rm -f talker >/dev/null 2>&1

# ---- agents watch, they do not poll ----
if [ "$store" = etcd ]; then
    # etcd's own count of Range calls (its /metrics): three idle agents
    # reconciling every 500 ms read nothing from the store
    ranges() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^grpc_server_started_total\{.*grpc_method="Range"/ {print $2}'; }
    a=$(ranges); sleep 3; b=$(ranges)
    [ -n "$a" ] && [ "$a" = "$b" ] && t_pass "idle agents send etcd no range request in 3 s (they watch)" ||
        t_fail "idle agents send etcd no range request in 3 s" "$a -> $b"
fi

# ---- controller status ----
status_of() { "${C[@]}" controller status | awk -v h="$1" '$1 == h {print $NF}'; }
all_ok() { for h in h1 h2 h3; do [ "$(status_of $h)" = ok ] || return 1; done; }
t_check "controller status: every host's agent ok" waitfor all_ok
out=$("${C[@]}" controller status)
grep -qx "controller $CLOUDLET_CONTROLLER" <<<"$out" && grep -Eq '^schema +2$' <<<"$out" &&
    grep -Eq '^revision +[0-9]+ ' <<<"$out" &&
    t_pass "controller status names the store, its schema and revision" ||
    t_fail "controller status names the store, its schema and revision" "$out"
rev=$(awk '$1 == "revision" {print $2}' <<<"$out")
h1app=$(awk '$1 == "h1" {print $2}' <<<"$out")
[[ $h1app =~ ^[0-9]+$ ]] && [ "$h1app" -le "$rev" ] && t_pass "h1's applied revision ($h1app <= $rev)" ||
    t_fail "h1's applied revision" "$out"

# ---- a revision gap: h2's agent stopped while the history is compacted ----
kill -STOP "$agent_h2"
# etcd, the controller: a restart ends h2's open watch (etcd's stream, the
# controller's long poll), so it must watch again from its revision (its
# socket still holds what was sent before)
[ "$store" != sqlite ] && { server_stop; t_check "$store restarted" server_start; }
t_check "sg rule add (port 9) while h2's agent is stopped" \
    "${C[@]}" vpc sg rule add v1/locked --ingress --proto tcp --port 9
stale() { [ "$(status_of h2)" = STALE ] && [ "$(status_of h1)" = ok ]; }
t_check "controller status flags h2's stopped agent STALE, h1's ok" waitfor_long stale
out=$("${C[@]}" controller compact); r=$?
[ $r = 0 ] && grep -q "history before revision [0-9]* dropped" <<<"$out" && t_pass "controller compact" ||
    t_fail "controller compact" "exit $r: $out"
lines=$(wc -l <"$st/agent-h2.log")
kill -CONT "$agent_h2"
port9() { ip netns exec "$h2v1" nft list table inet cloudlet | grep -q 'tcp dport 9 '; }
t_check "h2's agent converges after the gap (the port 9 rule is there)" waitfor_long port9
gapline=$(tail -n +$((lines + 1)) "$st/agent-h2.log" | grep 'revision gap')
[ "$(wc -l <<<"$gapline")" = 1 ] &&
    grep -Eq 'changes after revision [0-9]+ are compacted away \(the store.s history starts at [0-9]+\): full resync' \
        <<<"$gapline" && t_pass "h2's agent logs one line naming the revisions: $gapline" ||
    t_fail "h2's agent logs the revision gap" "$(tail -n +$((lines + 1)) "$st/agent-h2.log" | head -5)"
t_check "and reports again (controller status: ok)" waitfor_long all_ok

# ---- host removal ----
t_check "host rm h3" "${C[@]}" host rm h3
gone=0
for _ in $(seq 50); do
    { ip netns exec "$h2v1" bridge fdb show | grep -q 'dst 172.31.0.4' ||
        ip -n "$h2v1" route show | grep -q 'via 172.31.0.4' ||
        ip -n "$h2v1" neigh show | grep -q '^172.31.0.4 '; } || { gone=1; break; }
    sleep 0.1
done
t_eq "h3's FDB and neighbour entries and its guests' routes leave h2" 1 "$gone"
t_eq "and h3's namespaces are gone" "" "$(ip netns list | grep -- "-$cluster-h3" || true)"

# ---- the controller down, then back (etcd, the controller process) ----
if [ "$store" != sqlite ]; then
    "${C[@]}" ct run -d --name talker2 --host h1 --net v1/a "$img" run sh -c \
        "while true; do echo hello | nc -w 1 $s1b 7 | grep -q hello && echo ok; sleep 0.2; done" >/dev/null
    oks2() { grep -c "^ok$" "$st/ct/talker2/log" 2>/dev/null; }
    t_check "all hosts applied talker2" converged v1
    server_stop
    [ "$store" = controller ] && t_eq "the controller process is gone" "" "$(ss -Hltn "sport = :$port")"
    out=$("${C[@]}" vpc create v9 --cidr 10.90.0.0/16 2>&1); r=$?
    [ $r = 1 ] && grep -q "changes cannot be made: controller $CLOUDLET_CONTROLLER: unreachable" <<<"$out" &&
        t_pass "controller down: the CLI says changes cannot be made, naming the endpoint" ||
        t_fail "controller down: the CLI says so" "exit $r: $out"
    a=$(oks2); sleep 2; b=$(oks2)
    [ "$b" -gt "$a" ] && t_pass "controller down: traffic keeps flowing ($a -> $b exchanges)" ||
        t_fail "controller down: traffic keeps flowing" "$a -> $b"
    grep -q "unreachable.*data plane left as it is" "$st/agent-h1.log" &&
        t_pass "controller down: the agents say so and leave the data plane" ||
        t_fail "controller down: the agents say so" "$(tail -2 "$st/agent-h1.log")"
    bad "controller status with the store down names it" \
        "^cloudlet: controller $CLOUDLET_CONTROLLER: unreachable" controller status
    t_check "controller back" server_start
    t_check "a new attachment converges (server s5 on h2)" serve s5 h2 v1/a
    t_check "and is reached from h1" twice reach h1 v1/a "$(ip_of v1 s5)"
    "${C[@]}" ct rm -f talker2 >/dev/null 2>&1; "${C[@]}" ct rm -f s5 >/dev/null 2>&1
    # a store written by a newer cloudlet is refused, not guessed at
    store_put /cloudlet/schema 99
    bad "a store of a newer schema" "newer cloudlet \(schema 99" vpc create v9 --cidr 10.90.0.0/16
    if [ "$store" = controller ]; then
        p2=$(free_port $((port + 2)))
        bad "controller serve on a store of a newer schema" "newer cloudlet \(schema 99" \
            controller serve --store "sqlite:$st/controller.db" --listen "127.0.0.1:$p2"
    fi
    store_put /cloudlet/schema 2
fi

t_eq "h1's agent read the whole state once (events since; no resync after an outage)" 1 \
    "$(grep -c 'full resync' "$st/agent-h1.log")"

# ---- teardown ----
for c in s1 s1b x1 s1c s2 locked; do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
t_check "vpc rm v1" "${C[@]}" vpc rm v1
t_check "vpc rm v2" "${C[@]}" vpc rm v2
empty=0
for _ in $(seq 50); do [ -z "$(ip netns list | grep "clsv-$cluster" || true)" ] && { empty=1; break; }; sleep 0.1; done
t_eq "agents remove the VPC namespaces" 1 "$empty"
for p in "${agents[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
agents=()
for h in h1 h2; do t_check "host rm $h" "${C[@]}" host rm $h; done
t_eq "no namespace of the test remains" "" "$(ip netns list | grep -- "$cluster" || true)"
t_eq "no link of the test remains here" "" "$(ip -o link | grep -E 'cl(vx|ul|br|vh)-' || true)"
t_eq "no host or VPC key remains in the store" "0 0" \
    "$("${C[@]}" host ls | awk 'NR>1' | wc -l) $("${C[@]}" vpc ls | awk 'NR>1' | wc -l)"
if [ "$store" != sqlite ]; then
    t_eq "the store ($store) holds only the schema key" "/cloudlet/schema" "$(store_keys)"
fi
if [ "$store" = controller ]; then
    t_check "the controller stops on SIGTERM, exit 0" ctl_stop
    t_eq "and leaves no listener" "" "$(ss -Hltn "sport = :$port")"
fi
t_end
