#!/usr/bin/env bash
# A podman container on a cloudlet VPC subnet through cloudlet-cni (podman's
# CNI backend) and a microVM on the same subnet reach each other both ways.
# Needs /dev/kvm: run through tests/kvmhost/run (podman then runs in the
# same, emulated, host: cgroup v2, storage on its tmpfs /run).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
rt=$root/build/cloudlet-runtime
img=$root/build/images
[ -e /dev/kvm ] || { t_skip "podman + VM" "no /dev/kvm (run through tests/kvmhost/run)"; t_end; }
[ "$(id -u)" = 0 ] || { t_skip "podman + VM" "needs root"; t_end; }
# podman does not pass --runtime-flag root= to delete, so the runtime keeps
# its state in its default root, /var/lib/cloudlet: the 9p share in the
# emulated host, where mkfifo fails. A tmpfs over it, in a mount namespace
# of this test's own (podman and conmon are its children).
if [ -z "${CLOUDLET_PODMAN_MNTNS-}" ]; then
    exec env CLOUDLET_PODMAN_MNTNS=1 unshare -m --propagation private "$0" "$@"
fi
mkdir -p /var/lib/cloudlet && mount -t tmpfs -o mode=0711 cloudlet-runtime /var/lib/cloudlet ||
    { t_fail "podman + VM" "cannot mount a tmpfs on /var/lib/cloudlet"; t_end; }
command -v podman >/dev/null && command -v conmon >/dev/null ||
    { t_skip "podman + VM" "podman or conmon is not installed (make deps)"; t_end; }
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "podman + VM" "no br_netfilter"; t_end; }
# tmpfs: overlayfs (podman's store) cannot sit on 9p
tmp=$(mktemp -d /run/cloudlet-podman-vm.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-podman-vm.XXXXXX)
st=$tmp/cloudlet
C=("$cl" --root "$st")
export CONTAINERS_CONF=$tmp/containers.conf
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --cgroup-manager cgroupfs --events-backend none --runtime "$rt")
vmpid=""
cleanup() {
    [ -n "$vmpid" ] && kill -KILL "$vmpid" 2>/dev/null
    "${P[@]}" rm -af -t 0 >/dev/null 2>&1
    "${P[@]}" system reset -f >/dev/null 2>&1
    "${C[@]}" vpc rm --force v >/dev/null 2>&1
    grep -o " $tmp/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/cni-bin" "$tmp/cni-conf" "$st"
ln -s "$cl" "$tmp/cni-bin/cloudlet-cni"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$tmp/cni-bin"]
network_config_dir = "$tmp/cni-conf"
EOF
cat >"$tmp/cni-conf/clnet.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "clnet", "plugins": [{"type": "cloudlet-cni", "vpc": "v", "subnet": "a", "root": "$st"}]}
EOF

t_check "vpc and subnet" bash -c "'$cl' --root '$st' vpc create v --cidr 10.60.0.0/16 && '$cl' --root '$st' vpc subnet create v/a --cidr 10.60.1.0/24"
id=$("${P[@]}" pull -q "oci:$img/oci:latest" 2>"$tmp/err")
"${P[@]}" run -d --name pod1 --network clnet "$id" serve >/dev/null 2>"$tmp/err" || t_fail "podman run on clnet" "$(cat "$tmp/err")"
pid=$("${P[@]}" inspect -f '{{.Id}}' pod1 2>/dev/null)
podip=$("${C[@]}" vpc show v | awk -v id="$pid" '$2 == id {print $4; exit}')
podip=${podip%/*}
t_eq "the podman container's lease (vpc show)" 10.60.1.2 "$podip"

base="console=ttyS0 reboot=k panic=-1 pci=off"
"${C[@]}" vm run --name vm1 --net v/a --timeout 300s -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c "$base -- run sh -c \"ping -c 2 -W 10 $podip && echo hello-from-vm | nc -w 10 $podip 7 && exec /init serve\"" \
    </dev/null >"$tmp/vm.out" 2>"$tmp/vm.err" &
vmpid=$!
deadline=$((SECONDS + 240))
until grep -qa cloudlet-serving "$tmp/vm.out" || [ $SECONDS -ge $deadline ] || ! kill -0 "$vmpid" 2>/dev/null; do sleep 0.5; done
vmip=$("${C[@]}" vpc show v | awk '$1 == "vm" && $2 == "vm1" {print $4}')
vmip=${vmip%/*}
if grep -qa '2 packets received' "$tmp/vm.out" && tr -d '\r' <"$tmp/vm.out" | grep -qx hello-from-vm; then
    t_pass "VM -> podman container on one subnet: ping and a TCP echo"
else
    t_fail "VM -> podman container" "$(tail -5 "$tmp/vm.out" | tr '\n' ' ') $(cat "$tmp/vm.err")"
fi
out=$("${P[@]}" exec pod1 sh -c "ping -c2 -W5 $vmip >/dev/null && echo hello-from-pod | nc -w 10 $vmip 7" 2>&1)
grep -qx hello-from-pod <<<"$out" && t_pass "podman container -> VM ($vmip): ping and a TCP echo" \
    || t_fail "podman container -> VM" "$out"
kill -KILL "$vmpid"; wait "$vmpid" 2>/dev/null; vmpid=""
"${P[@]}" rm -f -t 0 pod1 >/dev/null 2>&1
t_eq "podman rm: the lease is released (CNI DEL)" "" "$("${C[@]}" vpc show v | awk -v id="$pid" '$2 == id')"
t_check "vpc rm" "${C[@]}" vpc rm v
t_end
