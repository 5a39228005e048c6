#!/usr/bin/env bash
# `cloudlet-cni` driven as a container runtime drives a CNI plugin (SPEC.md
# 1.0: CNI_COMMAND and friends in the environment, the network
# configuration on stdin), natively, as root, on network namespaces this
# test makes: ADD puts a namespace on a cloudlet VPC subnet (the lease is
# the one `vpc show` lists), where it reaches a `ct run --net` container;
# CHECK passes, then reports drift; DEL is idempotent (again, and after the
# namespace is gone); errors are SPEC's JSON with its codes; nothing stays.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
cni=${CLOUDLET_CNI:-$root/build/cloudlet-cni}
img=$root/build/images/oci
[ "$(id -u)" = 0 ] || { t_skip "cni" "needs root"; t_end; }
for f in "$cl" "$cni" "$img/index.json"; do
    [ -e "$f" ] || { t_fail "cni: $f" "missing (run: make all images)"; t_end; }
done
if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    modprobe br_netfilter 2>/dev/null
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
        { t_skip "cni" "no br_netfilter (security groups need it)"; t_end; }
fi
st=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-cni-test.XXXXXX")
C=("$cl" --root "$st")
ns1=clcni-a-$$ ns2=clcni-b-$$ ns3=clcni-c-$$
cleanup() {
    for c in $("${C[@]}" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
    for v in $("${C[@]}" vpc ls 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" vpc rm --force "$v" >/dev/null 2>&1; done
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    ip netns del "$ns3" 2>/dev/null
    rm -rf "$st"
}
trap cleanup EXIT

conf() { # VERSION [EXTRA-JSON-FIELDS]
    printf '{"cniVersion": "%s", "name": "cl-net", "type": "cloudlet-cni", "vpc": "v1", "subnet": "a", "root": "%s"%s}' \
        "$1" "$st" "${2:-}"
}
# plugin CMD NETNS-NAME ID [CONF]: $out $rc
plugin() {
    local ns=${2:+/var/run/netns/$2}
    out=$(conf_in=${4:-$(conf 1.0.0)}; printf '%s' "$conf_in" |
        env CNI_COMMAND="$1" CNI_CONTAINERID="$3" CNI_NETNS="$ns" CNI_IFNAME=eth0 CNI_PATH=/nonexistent "$cni")
    rc=$?
}
nslist() { ip netns list | awk '{print $1}' | sort; }

t_check "vpc create" "${C[@]}" vpc create v1 --cidr 10.30.0.0/16
t_check "subnet create" "${C[@]}" vpc subnet create v1/a --cidr 10.30.1.0/24

# ---- VERSION ----
plugin VERSION "" x '{"cniVersion": "1.0.0"}'
t_eq "VERSION: the supported versions" "0 1.0.0 0.4.0,1.0.0,1.1.0" \
    "$rc $(jq -r '[.cniVersion, (.supportedVersions | join(","))] | join(" ")' <<<"$out")"

# ---- ADD ----
ip netns add "$ns1"
id1=cni-$$-one
plugin ADD "$ns1" "$id1"
t_eq "ADD exits 0" "0" "$rc"
addr=$(jq -r '.ips[0].address' <<<"$out")
t_check "ADD result: an address in the subnet ($addr)" grep -q '^10\.30\.1\.[0-9]*/24$' <<<"$addr"
t_eq "ADD result: gateway, interface index, default route" "10.30.1.1 0 0.0.0.0/0 10.30.1.1" \
    "$(jq -r '[.ips[0].gateway, (.ips[0].interface|tostring), .routes[0].dst, .routes[0].gw] | join(" ")' <<<"$out")"
t_eq "ADD result: the interface in its sandbox" "eth0 /var/run/netns/$ns1" \
    "$(jq -r '.interfaces[0] | [.name, .sandbox] | join(" ")' <<<"$out")"
mac=$(jq -r '.interfaces[0].mac' <<<"$out")
t_eq "ADD: eth0 in the namespace has that MAC" "$mac" "$(ip -n "$ns1" -br link show eth0 | awk '{print $3}')"
t_check "ADD: eth0 has the address" grep -q "${addr%/*}" <<<"$(ip -n "$ns1" -4 addr show eth0)"
t_check "ADD: the default route via the gateway" grep -q 'default via 10.30.1.1' <<<"$(ip -n "$ns1" route)"
t_check "the lease is the one 'vpc show' lists" grep -q "${addr%/*}" <<<"$("${C[@]}" vpc show v1 | grep "$id1")"
add1=$out

# reaches a `ct run` container of the same subnet, both ways
ctip_out=$("${C[@]}" ct run -d --name srv-$$ --net v1/a "$img" serve 2>&1)
for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/srv-$$/log" 2>/dev/null && break; sleep 0.1; done
ctip=$("${C[@]}" vpc show v1 | awk -v id="srv-$$" '$2 == id {print $4; exit}')
ctip=${ctip%/*}
bb=$root/build/images/rootfs/bin/busybox   # the host may lack ping and nc
reach() { ip netns exec "$ns1" sh -c "$bb ping -c2 -W3 $ctip >/dev/null && echo hello | $bb nc -w 5 $ctip 7"; }
t_eq "the CNI namespace reaches the ct run container (ping + TCP echo) at $ctip" "hello" "$(reach || reach)"
back=$("${C[@]}" ct run --net v1/a "$img" run sh -c "ping -c2 -W3 ${addr%/*} >/dev/null && echo ok" 2>&1 | grep -x ok)
t_eq "and the container reaches the CNI namespace" "ok" "$back"
"${C[@]}" ct rm -f "srv-$$" >/dev/null 2>&1

# ---- CHECK ----
plugin CHECK "$ns1" "$id1" "$(conf 1.0.0 ", \"prevResult\": $add1")"
t_eq "CHECK with ADD's prevResult: exit 0, no output" "0 " "$rc $out"
plugin CHECK "$ns1" "$id1" "$(conf 1.0.0 ', "prevResult": {"cniVersion": "1.0.0", "ips": [{"address": "10.30.1.250/24"}]}')"
t_check "CHECK with another address: drift reported ($(jq -r .msg <<<"$out"))" test "$rc" = 1 -a "$(jq .code <<<"$out")" -ge 100
ip -n "$ns1" addr flush dev eth0
plugin CHECK "$ns1" "$id1" "$(conf 1.0.0 ", \"prevResult\": $add1")"
t_check "CHECK after the address was removed: drift ($(jq -r .msg <<<"$out"))" test "$rc" = 1 -a -n "$(jq -r .msg <<<"$out" | grep 'lacks its address')"

# ---- DEL ----
plugin DEL "$ns1" "$id1" "$(conf 1.0.0 ", \"prevResult\": $add1")"
t_eq "DEL exits 0" "0" "$rc"
t_check "DEL: the lease is gone from 'vpc show'" test -z "$("${C[@]}" vpc show v1 | grep "$id1")"
t_check "DEL: eth0 is gone from the namespace" test -z "$(ip -n "$ns1" -br link show eth0 2>/dev/null)"
plugin DEL "$ns1" "$id1"
t_eq "DEL again: still success (idempotent)" "0" "$rc"

# DEL after the namespace is gone
ip netns add "$ns2"
plugin ADD "$ns2" "cni-$$-two" "$(conf 0.4.0)"
t_eq "ADD in a second namespace (0.4.0 result: ips[].version)" "0 4" "$rc $(jq -r '.ips[0].version' <<<"$out")"
ip netns del "$ns2"
plugin DEL "" "cni-$$-two"
t_eq "DEL once the namespace is gone (no CNI_NETNS): success" "0" "$rc"
t_check "... and its lease is released" test -z "$("${C[@]}" vpc show v1 | grep "cni-$$-two")"

# ---- STATUS (SPEC 1.1): can ADD work now? ----
plugin STATUS "" "" "$(conf 1.1.0)"
t_eq "STATUS on a subnet with room: exit 0, no output" "0 " "$rc $out"
plugin STATUS "" "" "$(conf 1.1.0 | sed 's/"subnet": "a"/"subnet": "zz"/')"
t_check "STATUS on an unknown subnet: code 50 naming it ($(jq -r .msg <<<"$out"))" \
    test "$rc" = 1 -a "$(jq .code <<<"$out")" = 50 -a -n "$(jq -r .msg <<<"$out" | grep v1/zz)"
"${C[@]}" vpc subnet create v1/t --cidr 10.30.9.0/30 >/dev/null
ip netns add "$ns3"
plugin ADD "$ns3" "cni-$$-t" "$(conf 1.1.0 | sed 's/"subnet": "a"/"subnet": "t"/')"
t_eq "ADD with cniVersion 1.1.0 on a /30 (its one guest address)" "0 10.30.9.2/30" "$rc $(jq -r '.ips[0].address' <<<"$out")"
plugin STATUS "" "" "$(conf 1.1.0 | sed 's/"subnet": "a"/"subnet": "t"/')"
t_check "STATUS on the full subnet: code 50, full ($(jq -r .msg <<<"$out"))" \
    test "$rc" = 1 -a "$(jq .code <<<"$out")" = 50 -a -n "$(jq -r .msg <<<"$out" | grep 'is full')"
plugin DEL "$ns3" "cni-$$-t" "$(conf 1.1.0 | sed 's/"subnet": "a"/"subnet": "t"/')"
plugin STATUS "" "" "$(conf 1.1.0 | sed 's/"subnet": "a"/"subnet": "t"/')"
t_eq "STATUS once DEL freed it: ready again" "0 " "$rc $out"
"${C[@]}" vpc create v2 --cidr 10.31.0.0/16 >/dev/null && "${C[@]}" vpc subnet create v2/a --cidr 10.31.1.0/24 >/dev/null
ip netns del "$(jq -r .netns "$st/vpc/v2.json")"
plugin STATUS "" "" "$(conf 1.1.0 | sed 's/"vpc": "v1"/"vpc": "v2"/')"
t_check "STATUS when the VPC's namespace is gone: code 51 ($(jq -r .msg <<<"$out"))" \
    test "$rc" = 1 -a "$(jq .code <<<"$out")" = 51
"${C[@]}" vpc rm --force v2 >/dev/null 2>&1

# ---- GC (SPEC 1.1): attachments not listed as valid are detached ----
plugin ADD "$ns1" "cni-$$-g1" "$(conf 1.1.0)"
plugin ADD "$ns3" "cni-$$-g2" "$(conf 1.1.0)"
"${C[@]}" ct run -d --name "keep-$$" --net v1/a "$img" serve >/dev/null 2>&1
plugin GC "" "" "$(conf 1.1.0)"
t_check "GC without cni.dev/valid-attachments: refused (code 7), nothing detached" \
    test "$rc" = 1 -a "$(jq .code <<<"$out")" = 7 -a -n "$("${C[@]}" vpc show v1 | grep "cni-$$-g2")"
plugin GC "" "" "$(conf 1.1.0 ", \"cni.dev/valid-attachments\": [{\"containerID\": \"cni-$$-g1\", \"ifname\": \"eth0\"}]")"
t_eq "GC exits 0 with no output" "0 " "$rc $out"
shown=$("${C[@]}" vpc show v1)
t_check "GC: the attachment not listed is gone (lease, bridge port)" test -z "$(grep "cni-$$-g2" <<<"$shown")"
t_check "GC: the listed one stays, and still works" \
    test -n "$(grep "cni-$$-g1" <<<"$shown")" -a -n "$(ip -n "$ns1" -4 addr show eth0 | grep inet)"
t_check "GC: a ct run container's attachment (it has a holder) is not CNI's and stays" grep -q "keep-$$" <<<"$shown"
"${C[@]}" ct rm -f "keep-$$" >/dev/null 2>&1
plugin DEL "$ns1" "cni-$$-g1" "$(conf 1.1.0)"
ip netns del "$ns3"

# ---- errors: SPEC.md's JSON and codes ----
plugin ADD "$ns1" "cni-$$-x" '{"cniVersion": "9.9.9", "name": "n", "vpc": "v1", "subnet": "a"}'
t_eq "an unsupported cniVersion: code 1" "1 1" "$rc $(jq .code <<<"$out")"
plugin ADD "$ns1" "cni-$$-x" 'this is not json'
t_eq "a netconf that is not JSON: code 6" "1 6" "$rc $(jq .code <<<"$out")"
plugin ADD "$ns1" "cni-$$-x" '{"cniVersion": "1.0.0", "name": "n"}'
t_eq "a netconf without vpc/subnet: code 7" "1 7" "$rc $(jq .code <<<"$out")"
out=$(conf 1.0.0 | env -u CNI_COMMAND "$cni"); rc=$?
t_eq "no CNI_COMMAND: code 4" "1 4" "$rc $(jq .code <<<"$out")"
plugin ADD "nosuch-$$" "cni-$$-x"
t_eq "a netns that does not exist: code 3" "1 3" "$rc $(jq .code <<<"$out")"
plugin ADD "$ns1" "cni-$$-x" "$(conf 1.0.0 | sed 's/"subnet": "a"/"subnet": "zz"/')"
t_check "an unknown subnet: a plugin code and a message naming it ($(jq -r .msg <<<"$out"))" \
    test "$rc" = 1 -a "$(jq .code <<<"$out")" -ge 100 -a -n "$(jq -r .msg <<<"$out" | grep zz)"
t_check "... and nothing of it is left (no lease, no link)" \
    test -z "$("${C[@]}" vpc show v1 | grep "cni-$$-x")" -a -z "$(ip -n "$ns1" -br link show eth0 2>/dev/null)"

ip netns del "$ns1"
vpcns=$(jq -r .netns "$st/vpc/v1.json")
t_check "vpc rm (no attachment left to refuse it)" "${C[@]}" vpc rm v1
t_eq "nothing left: namespaces (ours and the VPC's $vpcns)" "" "$(nslist | grep -e "clcni-.*-$$" -e "$vpcns")"
t_eq "nothing left: leases" "" "$(cat "$st"/leases/v1/*.json 2>/dev/null | grep '"ip"')"
t_end
