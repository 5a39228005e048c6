#!/usr/bin/env bash
# A microVM and a container on two hosts of one VPC, talking over the VXLAN
# overlay (net/sdn/): two simulated hosts, their agents, the embedded store;
# the container on h1, the VM on h2, ping and a TCP echo both ways; then a
# container in the VPC's other subnet on h1 reaches the VM (routed over the
# VPC's one VXLAN device). Needs
# /dev/kvm: run through tests/kvmhost/run (tests/kvm/run does). The
# container-only scenarios are tests/e2e/sdn.sh.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
# /run: sqlite's locks and the overlay's upper dirs need a local filesystem
st=$(mktemp -d /run/cloudlet-sdn-vm.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-sdn-vm.XXXXXX)
C=("$cl" --root "$st")
export CLOUDLET_CONTROLLER="sqlite:$st/controller.db"
vmpid="" agents=()
cleanup() {
    [ -n "$vmpid" ] && kill -KILL "$vmpid" 2>/dev/null && wait "$vmpid" 2>/dev/null
    "${C[@]}" ct rm -f web >/dev/null 2>&1
    "${C[@]}" vpc rm --force v >/dev/null 2>&1
    sleep 1.5
    for p in "${agents[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    "${C[@]}" host rm h1 >/dev/null 2>&1; "${C[@]}" host rm h2 >/dev/null 2>&1
    rm -rf "$st"
}
trap cleanup EXIT
[ -e /dev/kvm ] || { t_skip "overlay with a VM" "no /dev/kvm (run through tests/kvmhost/run)"; t_end; }
[ "$(id -u)" = 0 ] || { t_skip "overlay with a VM" "needs root"; t_end; }
modprobe br_netfilter 2>/dev/null; modprobe vxlan 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "overlay with a VM" "no br_netfilter"; t_end; }

t_check "hosts h1 and h2" bash -c "'$cl' host add h1 && '$cl' host add h2"
for h in h1 h2; do "$cl" --root "$st" agent --host $h --interval 500ms >>"$st/agent-$h.log" 2>&1 & agents+=($!); done
t_check "vpc and subnets" bash -c "'$cl' vpc create v --cidr 10.30.0.0/16 && '$cl' vpc subnet create v/a --cidr 10.30.1.0/24 && '$cl' vpc subnet create v/b --cidr 10.30.2.0/24"
"${C[@]}" ct run -d --name web --host h1 --net v/a "$img/oci" serve >/dev/null || t_fail "container web on h1"
for _ in $(seq 200); do grep -q cloudlet-serving "$st/ct/web/log" 2>/dev/null && break; sleep 0.1; done
ctip=$("${C[@]}" vpc show v | awk '$1 == "ct" && $2 == "web" {print $5}')
t_eq "the container's address (h1)" 10.30.1.2 "$ctip"

base="console=ttyS0 reboot=k panic=-1 pci=off"
"${C[@]}" vm run --name vm1 --host h2 --net v/a --timeout 300s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c "$base -- run sh -c \"cat /sys/class/net/eth0/mtu; ping -c 2 -W 10 $ctip && echo hello-from-vm | nc -w 10 $ctip 7 && exec /init serve\"" \
    </dev/null >"$st/vm.out" 2>"$st/vm.err" &
vmpid=$!
deadline=$((SECONDS + 240))
until grep -qa cloudlet-serving "$st/vm.out" || [ $SECONDS -ge $deadline ] || ! kill -0 "$vmpid" 2>/dev/null; do sleep 0.5; done
vmip=$("${C[@]}" vpc show v | awk '$1 == "vm" && $2 == "vm1" {print $5 " " $4}')
t_eq "the VM's address and host" "10.30.1.3 h2" "$vmip"
if grep -qa '2 packets received' "$st/vm.out" && tr -d '\r' <"$st/vm.out" | grep -qx hello-from-vm; then
    t_pass "VM on h2 -> container on h1 over VXLAN: ping and a TCP echo"
else
    t_fail "VM on h2 -> container on h1" "$(tail -5 "$st/vm.out" | tr '\n' ' ') $(cat "$st/vm.err")"
fi
tr -d '\r' <"$st/vm.out" | grep -qx 1450 && t_pass "the VM's MTU is 1450" || t_fail "the VM's MTU" "$(head -c 300 "$st/vm.out")"
out=$("${C[@]}" ct run --host h1 --net v/a "$img/oci" run sh -c "ping -c2 -W5 10.30.1.3 >/dev/null && echo hello-from-ct | nc -w 10 10.30.1.3 7" 2>&1)
grep -qx hello-from-ct <<<"$out" && t_pass "container on h1 -> VM on h2: ping and a TCP echo" \
    || t_fail "container on h1 -> VM on h2" "$out"
out=$("${C[@]}" ct run --host h1 --net v/b "$img/oci" run sh -c "ping -c2 -W5 10.30.1.3 >/dev/null && echo hello-from-b | nc -w 10 10.30.1.3 7" 2>&1)
grep -qx hello-from-b <<<"$out" && t_pass "container in subnet b on h1 -> VM in subnet a on h2: ping and a TCP echo" \
    || t_fail "container in subnet b on h1 -> VM in subnet a on h2" "$out"
"${C[@]}" vpc show v >&2
t_end
