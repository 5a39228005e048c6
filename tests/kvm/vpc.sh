#!/usr/bin/env bash
# A microVM and a container on one VPC subnet: the same workload, attached
# the same way (tap vs veth on one bridge), reach each other both ways; a
# VMM killed with SIGKILL leaves no attachment, lease or tap once the VPC
# is next touched. Needs /dev/kvm: run through tests/kvmhost/run (the
# container half then runs in the same, emulated, host).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
# state on a tmpfs: overlayfs cannot use a 9p upper layer, and the console
# log is written a byte at a time
st=$(mktemp -d /run/cloudlet-vpc-vm.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-vpc-vm.XXXXXX)
C=("$cl" --root "$st")
vmpid=""
cleanup() {
    [ -n "$vmpid" ] && kill -KILL "$vmpid" 2>/dev/null
    "${C[@]}" ct rm -f web >/dev/null 2>&1
    "${C[@]}" vpc rm --force v >/dev/null 2>&1
    rm -rf "$st"
}
trap cleanup EXIT
[ -e /dev/kvm ] || { t_skip "vpc with a VM" "no /dev/kvm (run through tests/kvmhost/run)"; t_end; }
[ "$(id -u)" = 0 ] || { t_skip "vpc with a VM" "needs root"; t_end; }
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "vpc with a VM" "no br_netfilter"; t_end; }

t_check "vpc and subnet" bash -c "'$cl' --root '$st' vpc create v --cidr 10.30.0.0/16 && '$cl' --root '$st' vpc subnet create v/a --cidr 10.30.1.0/24"
"${C[@]}" ct run -d --name web --net v/a "$img/oci" serve >/dev/null || t_fail "container web"
for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/web/log" 2>/dev/null && break; sleep 0.1; done
ctip=$("${C[@]}" vpc show v | awk '$1 == "ct" && $2 == "web" {print $4}')
t_eq "the container's address" 10.30.1.2 "$ctip"

base="console=ttyS0 reboot=k panic=-1 pci=off"
"${C[@]}" vm run --name vm1 --net v/a --timeout 240s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c "$base -- run sh -c \"ping -c 2 -W 10 $ctip && echo hello-from-vm | nc -w 10 $ctip 7 && exec /init serve\"" \
    </dev/null >"$st/vm.out" 2>"$st/vm.err" &
vmpid=$!
deadline=$((SECONDS + 180))
until grep -qa cloudlet-serving "$st/vm.out" || [ $SECONDS -ge $deadline ] || ! kill -0 "$vmpid" 2>/dev/null; do sleep 0.5; done
vmip=$("${C[@]}" vpc show v | awk '$1 == "vm" && $2 == "vm1" {print $4}')
t_eq "the VM's address (leased, given to the guest by ip=)" 10.30.1.3 "$vmip"
if grep -qa '2 packets received' "$st/vm.out" && tr -d '\r' <"$st/vm.out" | grep -qx hello-from-vm; then
    t_pass "VM -> container on one subnet: ping and a TCP echo"
else
    t_fail "VM -> container" "$(tail -5 "$st/vm.out" | tr '\n' ' ') $(cat "$st/vm.err")"
fi
out=$("${C[@]}" ct run --net v/a "$img/oci" run sh -c "ping -c2 -W5 $vmip >/dev/null && echo hello-from-ct | nc -w 10 $vmip 7" 2>&1)
grep -qx hello-from-ct <<<"$out" && t_pass "container -> VM on one subnet: ping and a TCP echo" \
    || t_fail "container -> VM" "$out"

ns=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/v.json")
tap=$("${C[@]}" vpc show v | awk '$1 == "vm" {print $6}')
kill -KILL "$vmpid"; wait "$vmpid" 2>/dev/null; vmpid=""
shown=$("${C[@]}" vpc show v)
if ! grep -q "^vm " <<<"$shown" && ! grep -qE "\"ip\": *\"$vmip\"" "$st/leases/v/a.json" &&
   ! ip -n "$ns" link show "$tap" >/dev/null 2>&1; then
    t_pass "a VMM killed with SIGKILL: its attachment, lease and tap are gone"
else
    t_fail "SIGKILL VMM cleanup" "tap $tap: $(grep '^vm ' <<<"$shown")"
fi
"${C[@]}" ct rm -f web >/dev/null
t_check "vpc rm" "${C[@]}" vpc rm v
ip netns list | grep -q "^$ns" && t_fail "vpc rm left its namespace $ns" || t_pass "vpc rm: no namespace left"
t_end
