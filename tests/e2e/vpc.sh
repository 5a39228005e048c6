#!/usr/bin/env bash
# End-to-end tests of `cloudlet vpc` with containers (natively, as root):
# subnets, routing through the VPC router, isolation between VPCs with the
# same CIDR, security groups, the NAT gateway and "nothing left behind".
# Every namespace is the test's own: VPC namespaces live under a private
# state root, the NAT's "host" and "internet" are namespaces made here, and
# addresses are private or documentation ranges (RFC 5737) inside them.
# The same checks with a microVM on the subnet: tests/kvm/vpc.sh.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images/oci
st=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-vpc-test.XXXXXX")
C=("$cl" --root "$st")
hostns=clt-host-$$ inetns=clt-inet-$$
cleanup() {
    for c in $("${C[@]}" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
    for v in $("${C[@]}" vpc ls 2>/dev/null | awk 'NR>1{print $1}'); do
        ip netns exec "$hostns" "${C[@]}" vpc rm --force "$v" >/dev/null 2>&1 || "${C[@]}" vpc rm --force "$v" >/dev/null 2>&1
    done
    ip netns del "$hostns" 2>/dev/null
    ip netns del "$inetns" 2>/dev/null
    rm -rf "$st"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { t_skip "vpc" "needs root"; t_end; }
[ -e "$img/index.json" ] || { t_fail "vpc: $img" "missing (run: make images)"; t_end; }
if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    modprobe br_netfilter 2>/dev/null
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
        { t_skip "vpc" "no br_netfilter (security groups need it)"; t_end; }
fi

# ctrun ARGS...: a foreground container running `/init run ARGS` (stdout kept)
ctrun() { local net=$1; shift; "${C[@]}" ct run $net "$img" run "$@" 2>&1; }
# reach NET IP: the container pings IP and completes a TCP echo on port 7
reach() {
    local out; out=$(ctrun "$1" sh -c "ping -c2 -W3 $2 >/dev/null && echo hello | nc -w 5 $2 7")
    grep -qx hello <<<"$out" || { echo "$out" | sed 's/^/    /' >&2; return 1; }
}
tcp7() { local o; o=$(ctrun "$1" sh -c "echo hello | nc -w 5 $2 7; echo rc=\$?"); grep -qx hello <<<"$o" || { echo "$o" | sed "s/^/    /" >&2; return 1; }; }
icmp() {
    local o; o=$(ctrun "$1" sh -c "ip -4 a show eth0 | grep inet; ping -c2 -W3 $2; echo rc=\$?")
    grep -qx rc=0 <<<"$o" && return 0
    if [ -n "${DEBUG-}" ]; then
        echo "$o" >&2
        local ns; ns=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/v1.json")
        ip -n "$ns" neigh >&2; ip netns exec "$ns" nft list table inet cloudlet >&2
        ip netns exec "$ns" nft list table bridge cloudlet >&2
        ip netns exec "$ns" cat /proc/net/nf_conntrack 2>/dev/null | grep icmp >&2
        ip netns exec "$ns" ping -c1 -W1 "$2" >&2
    fi
    return 1
}
# twice: what must pass gets a second chance on a loaded machine (a first
# ARP exchange lost); what must be refused gets one try, and waits it out
twice() { "$@" || "$@"; }
serve() { # NAME NET...: a detached echo server; waits until it serves
    local n=$1; shift
    "${C[@]}" ct run -d --name "$n" "$@" "$img" serve >/dev/null || return 1
    for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/$n/log" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
ip_of() { "${C[@]}" vpc show "$1" | awk -v id="$2" '$1 ~ /^(ct|vm)$/ && $2 == id {print $4; exit}'; }
leases() { cat "$st"/leases/"$1"/*.json 2>/dev/null | grep -c '"ip"'; }

# ---- model and bad input ----
t_check "vpc create" "${C[@]}" vpc create v1 --cidr 10.20.0.0/16
t_check "subnet create a" "${C[@]}" vpc subnet create v1/a --cidr 10.20.1.0/24
t_check "subnet create b" "${C[@]}" vpc subnet create v1/b --cidr 10.20.2.0/24
t_check "a second VPC may reuse the CIDR" "${C[@]}" vpc create v2 --cidr 10.20.0.0/16
t_check "its subnet" "${C[@]}" vpc subnet create v2/x --cidr 10.20.5.0/24
t_check "a /30 subnet (one guest)" "${C[@]}" vpc subnet create v1/tiny --cidr 10.20.9.0/30
bad() { t_bad "$1" "$2" "${C[@]}" "${@:3}"; }   # NAME PATTERN ARGS...
bad "malformed CIDR" "10.20.0/16" vpc create v3 --cidr 10.20.0/16
bad "host bits set" "did you mean 10.30.0.0/16" vpc create v3 --cidr 10.30.0.1/16
bad "subnet outside the VPC" "not within|outside" vpc subnet create v1/c --cidr 10.21.0.0/24
bad "overlapping sibling" "overlaps 10.20.1.0/24 \(subnet a\)" vpc subnet create v1/c --cidr 10.20.1.128/25
bad "unknown VPC" "vpc nosuch: no such VPC" vpc subnet create nosuch/a --cidr 10.0.0.0/24
bad "VPC exists" "vpc v1 exists" vpc create v1 --cidr 10.40.0.0/16
bad "name too long" "64 characters|too long" vpc create "$(printf 'v%.0s' $(seq 70))" --cidr 10.50.0.0/16
bad "unknown SG in a rule" "sg:nosuch: no such security group" vpc sg rule add v1/default --ingress --proto tcp --from sg:nosuch
bad "port without tcp/udp" "--port needs --proto tcp or udp" vpc sg rule add v1/default --ingress --proto icmp --port 80
t_eq "the failed VPC creations left no namespace" 2 "$(ip netns list | grep -c "^clvpc-" | awk -v b="$(ls "$st/vpc" | grep -c json)" '{print b}')"
out=$("${C[@]}" ct run --name badnet-$$ --net v1/nosuch "$img" exit 2>&1); r=$?
[ $r = 1 ] && grep -q "vpc v1 has no subnet nosuch" <<<"$out" && [ ! -e "$st/ct/badnet-$$" ] \
    && t_pass "ct run --net to an unknown subnet: one line, no container left" \
    || t_fail "unknown subnet" "exit $r: $out"
out=$("${C[@]}" ct run --name badsg-$$ --net v1/a --sg nosuch "$img" exit 2>&1); r=$?
[ $r = 1 ] && grep -q "sg nosuch" <<<"$out" && [ "$(leases v1)" = 0 ] && [ ! -e "$st/ct/badsg-$$" ] \
    && t_pass "ct run --sg unknown: one line, no lease, no container left" \
    || t_fail "unknown sg" "exit $r leases $(leases v1): $out"

# ---- one subnet, across subnets, across VPCs ----
if serve srv1-$$ --net v1/a; then t_pass "echo server on v1/a"; else t_fail "echo server on v1/a"; fi
s1=$(ip_of v1 srv1-$$)
t_eq "the first guest gets the first address after the gateway" 10.20.1.2 "$s1"
out=$(ctrun "--net v1/a" sh -c 'ip addr show eth0; ip route')
grep -q "inet 10.20.1.3/24" <<<"$out" && grep -q "default via 10.20.1.1" <<<"$out" && grep -q "mtu 1500" <<<"$out" \
    && t_pass "the container's eth0: leased address, default route via the gateway, MTU, before it starts" \
    || t_fail "container eth0" "$out"
t_check "two containers in one subnet: ping and TCP" twice reach "--net v1/a" "$s1"
t_check "containers in two subnets of one VPC reach each other through the gateway" twice reach "--net v1/b" "$s1"
if ! reach "--net v2/x" "$s1"; then t_pass "a container in another VPC (same CIDR) cannot reach them"
else t_fail "VPC isolation" "v2 reached $s1"; fi

# ---- security groups ----
t_check "sg create" "${C[@]}" vpc sg create v1/web
t_check "sg rule: tcp 7 from subnet b" "${C[@]}" vpc sg rule add v1/web --ingress --proto tcp --port 7 --from 10.20.2.0/24
serve srv2-$$ --net v1/a --sg web || t_fail "server in sg web"
s2=$(ip_of v1 srv2-$$)
t_check "sg: TCP 7 from subnet b is allowed" twice tcp7 "--net v1/b" "$s2"
if ! tcp7 "--net v1/a" "$s2"; then t_pass "sg: TCP 7 from subnet a (same bridge) is refused"
else t_fail "sg same-subnet deny" "reached $s2 from v1/a"; fi
if ! icmp "--net v1/b" "$s2"; then t_pass "sg: ICMP is denied before a rule allows it"
else t_fail "sg icmp deny" "pinged $s2"; fi
t_check "sg rule: icmp" "${C[@]}" vpc sg rule add v1/web --ingress --proto icmp --from 10.20.0.0/16
t_check "sg: ICMP passes once allowed" twice icmp "--net v1/b" "$s2"
# a client in group web (which lets nothing from subnet b in but TCP to
# port 7) calls a server on subnet b: the replies come back to an
# ephemeral port, and pass only because the flow is known
t_check "sg create open + rule tcp 7 from anywhere" bash -c "'$cl' --root '$st' vpc sg create v1/open && '$cl' --root '$st' vpc sg rule add v1/open --ingress --proto tcp --port 7"
serve srv3-$$ --net v1/b --sg open || t_fail "server in sg open"
s3=$(ip_of v1 srv3-$$)
out=$("${C[@]}" ct run --net v1/a --sg web "$img" run sh -c "echo hello | nc -w 3 $s3 7" 2>&1)
grep -qx hello <<<"$out" && t_pass "sg: replies to a guest's own outbound connection pass (stateful)" \
    || t_fail "sg stateful" "$out"
"${C[@]}" vpc show v1 | grep -q "ingress tcp 7 from 10.20.2.0/24" \
    && t_pass "vpc show lists the group's rules" || t_fail "vpc show rules"

# ---- NAT gateway: "host" and "internet" are namespaces of this test ----
ip netns add "$hostns" && ip netns add "$inetns"
ip -n "$hostns" link add up0 type veth peer name wan0 netns "$inetns"
ip -n "$hostns" addr add 203.0.113.1/24 dev up0; ip -n "$hostns" link set up0 up
ip -n "$inetns" addr add 203.0.113.2/24 dev wan0; ip -n "$inetns" link set wan0 up
ip -n "$inetns" link set lo up
t_check "nat enable (uplink in the test's host namespace)" ip netns exec "$hostns" "${C[@]}" vpc nat enable v1 --uplink up0
ip netns exec "$inetns" busybox nc -l -p 8000 -e sh -c 'sleep 4' &
srvpid=$!
sleep 0.3
ctrun "--net v1/b" sh -c 'nc -w 6 203.0.113.2 8000 </dev/null; echo done' >"$st/nat.out" &
peer=""
for _ in $(seq 50); do
    # any state: the client's side may be closing already; v4-mapped on a v6 socket
    peer=$(ip netns exec "$inetns" ss -Htn '( sport = :8000 )' | awk '{print $5}' | head -1 |
           sed -E 's/^\[::ffff:([0-9.]+)\]:.*/\1/; s/:[0-9]+$//')
    [ -n "$peer" ] && break; sleep 0.1
done
wait; kill "$srvpid" 2>/dev/null
t_eq "nat: a guest reaches the 'internet', which sees the uplink's address" 203.0.113.1 "$peer"
ip -n "$inetns" route add 10.20.0.0/16 via 203.0.113.1
ip -n "$inetns" route add 100.64.0.0/16 via 203.0.113.1
if ! ip netns exec "$inetns" ping -c1 -W1 "$s1" >/dev/null 2>&1 && ! ip netns exec "$inetns" ping -c1 -W1 100.64.0.2 >/dev/null 2>&1
then t_pass "nat: nothing gets in from the uplink"; else t_fail "nat inbound" "a ping got in"; fi

# ---- parallel launches: 8 containers started at once on one subnet ----
# IPAM's lock, the VPC record's and the nftables ruleset's must serialize
# them: 8 distinct leases, 8 ports, each address in the ruleset; then 8
# removals at once leave no lease, port or nft element.
t_check "subnet for parallel launches" "${C[@]}" vpc subnet create v1/par --cidr 10.20.3.0/24
ns1=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/v1.json")
pids=() started=0
for i in $(seq 8); do
    "${C[@]}" ct run -d --name par$i-$$ --net v1/par "$img" serve >"$st/par$i.out" 2>&1 &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" && started=$((started + 1)); done
t_eq "8 concurrent 'ct run -d --net v1/par' all start" 8 "$started"
for i in $(seq 8); do
    for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/par$i-$$/log" 2>/dev/null && break; sleep 0.1; done
done
shown=$("${C[@]}" vpc show v1)
par_ips=$(awk -v s=$$ '$1 == "ct" && $2 ~ ("^par[0-9]-" s "$") && $3 == "par" {print $4}' <<<"$shown" | sort -u)
par_ports=$(awk -v s=$$ '$1 == "ct" && $2 ~ ("^par[0-9]-" s "$") {print $6}' <<<"$shown" | sort -u)
t_eq "8 distinct addresses in 10.20.3.0/24" 8 "$(grep -c '^10\.20\.3\.' <<<"$par_ips")"
t_eq "8 distinct ports on the bridge" 8 "$(grep -c . <<<"$par_ports")"
t_eq "8 leases in the subnet's file" 8 "$(grep -c '"ip"' "$st/leases/v1/par.json")"
rules=$(ip netns exec "$ns1" nft list ruleset)
missing=""
for a in $par_ips; do grep -qw "$a" <<<"$rules" || missing+=" $a"; done
[ -z "$missing" ] && t_pass "every parallel guest's address is in the VPC's nftables ruleset" \
    || t_fail "nft after parallel launches" "missing:$missing"
# from inside each container's network namespace: the gateway, and the
# next container's TCP echo (the default group lets members reach members)
ipl=($par_ips) bad=""
for i in $(seq 0 7); do
    pid=$(awk -F'"pid": *' '/"pid"/{split($2,a,","); print a[1]; exit}' "$st/ct/par$((i + 1))-$$/state.json")
    peer=${ipl[$(((i + 1) % 8))]}
    [ "$peer" = "$(ip_of v1 par$((i + 1))-$$)" ] && peer=${ipl[$(((i + 2) % 8))]}
    out=$(nsenter -t "$pid" -n busybox sh -c \
        "busybox ping -c1 -W3 10.20.3.1 >/dev/null || busybox ping -c1 -W3 10.20.3.1 >/dev/null || exit 1; echo hi | busybox nc -w 3 $peer 7" 2>&1)
    [ "$out" = hi ] || bad+=" par$((i + 1)) -> gw/$peer: '$out'"
done
[ -z "$bad" ] && t_pass "each of the 8 reaches the gateway and another's TCP echo" || t_fail "parallel reachability" "$bad"
pids=()
for i in $(seq 8); do "${C[@]}" ct rm -f par$i-$$ >/dev/null 2>&1 & pids+=($!); done
removed=0
for p in "${pids[@]}"; do wait "$p" && removed=$((removed + 1)); done
t_eq "8 concurrent 'ct rm -f'" 8 "$removed"
left=""
[ "$(cat "$st/leases/v1/par.json" 2>/dev/null | grep -c '"ip"')" = 0 ] || left+=" leases: $(grep '"ip"' "$st/leases/v1/par.json" | tr -d ' \n')"
"${C[@]}" vpc show v1 | grep -qE "^ct +par[0-9]-$$ " && left+=" attachments"
for p in $par_ports; do ip -n "$ns1" link show "$p" >/dev/null 2>&1 && left+=" veth $p"; done
rules=$(ip netns exec "$ns1" nft list ruleset)
for a in $par_ips; do grep -qw "$a" <<<"$rules" && left+=" nft $a"; done
ip -br link | grep -qE '^clv[hc]-' && left+=" host-veth"
[ -z "$left" ] && t_pass "after the 8 are removed: no lease, attachment, veth or nft element of theirs" \
    || t_fail "parallel leftovers" "$left"

# ---- nothing left behind ----
"${C[@]}" ct run -d --name victim-$$ --net v1/a "$img" serve >/dev/null
sleep 1
vip=$(ip_of v1 victim-$$)
kill -KILL "$(awk -F'"pid": *' '/"pid"/{split($2,a,","); print a[1]; exit}' "$st/ct/victim-$$/state.json")" 2>/dev/null
for _ in $(seq 50); do "${C[@]}" vpc show v1 | grep -q " victim-$$ " || break; sleep 0.1; done
if [ -n "$vip" ] && ! "${C[@]}" vpc show v1 | grep -q " victim-$$ " && ! grep -qE "\"ip\": *\"$vip\"" "$st"/leases/v1/a.json; then
    t_pass "a container killed with SIGKILL: attachment and lease released"
else
    t_fail "SIGKILL cleanup" "ip $vip: $("${C[@]}" vpc show v1 | grep victim-$$)"
fi
"${C[@]}" ct rm -f victim-$$ >/dev/null 2>&1
out=$("${C[@]}" vpc rm v1 2>&1); r=$?
[ $r = 1 ] && grep -q "attached" <<<"$out" && t_pass "vpc rm refuses while guests are attached" || t_fail "vpc rm busy" "exit $r: $out"
ns1=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/v1.json")
for c in srv1-$$ srv2-$$ srv3-$$; do "${C[@]}" ct rm -f "$c" >/dev/null; done
t_check "vpc rm" ip netns exec "$hostns" "${C[@]}" vpc rm v1
t_check "vpc rm --force with a guest attached" bash -c "'$cl' --root '$st' ct run -d --name g2-$$ --net v2/x '$img' serve >/dev/null && '$cl' --root '$st' vpc rm --force v2"
"${C[@]}" ct rm -f g2-$$ >/dev/null 2>&1
leftovers=""
ip netns list | grep -q "^$ns1" && leftovers+=" netns $ns1"
[ -n "$(ls -A "$st/vpc" 2>/dev/null)" ] && leftovers+=" records $(ls "$st/vpc")"
[ -n "$(ls -A "$st/leases" 2>/dev/null)" ] && leftovers+=" leases $(ls "$st/leases")"
ip -n "$hostns" -br link | grep -q '^clnh-' && leftovers+=" nat-veth"
ip netns exec "$hostns" nft list tables | grep -q cloudlet && leftovers+=" host-nft"
ip -br link | grep -qE '^cl(vh|tp|br)-' && leftovers+=" host-links"
[ -z "$leftovers" ] && t_pass "after vpc rm: no namespace, bridge, veth, nft table, record or lease is left" \
    || t_fail "leftovers" "$leftovers"
t_end
