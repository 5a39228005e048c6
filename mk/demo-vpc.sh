#!/usr/bin/env bash
# make demo's second half (mk/demo.sh runs it where /dev/kvm works, through
# tests/kvmhost/run): one VPC with one subnet, a container and a microVM on
# it, the same workload, talking both ways (ping and the workload's TCP echo
# on port 7), then everything torn down and shown to be gone. Its state
# lives in a scratch --root on tmpfs (overlayfs cannot use 9p, the emulated
# host's /tmp), removed at the end whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
b=${BUILD:-build}
img=$b/images
st=$(mktemp -d /run/cloudlet-demo.XXXXXX)
vmpid="" ns=""
cleanup() {
    [ -z "$vmpid" ] || { kill -TERM "$vmpid" 2>/dev/null; wait "$vmpid" 2>/dev/null; } || true
    "$b/cloudlet" --root "$st" ct rm -f web >/dev/null 2>&1 || true
    "$b/cloudlet" --root "$st" vpc rm --force demo >/dev/null 2>&1 || true
    rm -rf "$st"
}
trap cleanup EXIT

# cl ARGS: show the command as a person would type it, then run it
cl() { printf '\n$ cloudlet %s\n' "$*"; "$b/cloudlet" --root "$st" "$@"; }
# indent: a guest's output, marked as such, without the console's \r
indent() { tr -d '\r' | sed "s/^/    $1| /"; }
fail() { echo "demo: $*" >&2; exit 1; }

# security groups filter bridged traffic through br_netfilter
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null || true

cl vpc create demo --cidr 10.40.0.0/16
cl vpc subnet create demo/web --cidr 10.40.1.0/24
cl ct run -d --name web --net demo/web "$img/oci" serve
for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/web/log" 2>/dev/null && break; sleep 0.1; done
grep -q cloudlet-serving "$st/ct/web/log" 2>/dev/null || fail "the container did not start serving"
ctip=$("$b/cloudlet" --root "$st" vpc show demo | awk '$1 == "ct" && $2 == "web" {print $4}')
echo "   the container 'web' serves on $ctip (TCP echo on port 7)"

# the VM pings the container and sends it a line over TCP, then serves the
# same echo itself; its kernel learns its address from the lease (ip=)
vmcmd="ping -c 2 -W 10 $ctip && echo hello-from-the-vm | nc -w 10 $ctip 7 && exec /init serve"
printf '\n$ cloudlet vm run --name vm1 --net demo/web -k %s -i %s -c "... -- run sh -c \x27%s\x27" &\n' \
    "$img/bzImage" "$img/initramfs.cpio.gz" "$vmcmd"
"$b/cloudlet" --root "$st" vm run --name vm1 --net demo/web --timeout 600s -k "$img/bzImage" \
    -i "$img/initramfs.cpio.gz" -c "console=ttyS0 reboot=k panic=-1 pci=off quiet -- run sh -c \"$vmcmd\"" \
    </dev/null >"$st/vm.out" 2>"$st/vm.err" &
vmpid=$!
deadline=$((SECONDS + 300))
until grep -qa cloudlet-serving "$st/vm.out" || [ $SECONDS -ge $deadline ] || ! kill -0 "$vmpid" 2>/dev/null; do
    sleep 0.5
done
echo "   the VM's console (from the workload's first line):"
# (the `serve` it execs last is not PID 1, so its own ready line says kind=ct: not shown)
sed -n '/cloudlet-ready/,$p' "$st/vm.out" | grep -av 'cloudlet-ready kind=ct' | indent vm
grep -qa cloudlet-serving "$st/vm.out" || fail "the VM did not get to serving: $(cat "$st/vm.err")"
tr -d '\r' <"$st/vm.out" | grep -qx hello-from-the-vm || fail "the VM's TCP echo through the container failed"
vmip=$("$b/cloudlet" --root "$st" vpc show demo | awk '$1 == "vm" && $2 == "vm1" {print $4}')

cl vpc show demo

echo
echo "   and the other way: a second container pings the VM at $vmip and talks to its echo"
ctcmd="ping -c 2 -W 5 $vmip && echo hello-from-a-container | nc -w 10 $vmip 7"
printf '\n$ cloudlet ct run --net demo/web %s run sh -c \x27%s\x27\n' "$img/oci" "$ctcmd"
"$b/cloudlet" --root "$st" ct run --net demo/web "$img/oci" run sh -c "$ctcmd" 2>&1 | indent ct
ns=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/demo.json")

echo
echo "== tearing down"
printf '\n$ kill -TERM <the vm run>   # the VMM stops, its tap and lease go\n'
kill -TERM "$vmpid"
wait "$vmpid" 2>/dev/null || true
vmpid=""
cl ct stop web
cl ct rm web
cl vpc rm demo
left=""
ip netns list | grep -q "^$ns" && left+=" namespace $ns"
[ -z "$(ls -A "$st/vpc" 2>/dev/null)" ] || left+=" VPC record"
[ -z "$(ls -A "$st/leases" 2>/dev/null)" ] || left+=" leases"
[ -z "$(ls "$st/ct" 2>/dev/null)" ] || left+=" container state"   # (its .lock stays)
[ -z "$left" ] || fail "left behind:$left"
echo "   nothing left: no VPC namespace ($ns), record, lease or container"
