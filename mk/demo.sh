#!/usr/bin/env bash
# The README's main job: show the one workload's three packagings, boot it
# as a microVM with cloudlet's own VMM, then put a container and a microVM
# on one VPC subnet and show them talking (mk/demo-vpc.sh). Where this machine's /dev/kvm
# cannot run a Linux guest (see tests/kvmhost/README.md) the VMM runs inside
# the emulated KVM host, transparently.
set -euo pipefail
cd "$(dirname "$0")/.."
b=${BUILD:-build}
img=$b/images
echo "== cloudlet $("$b/cloudlet" --version | cut -d' ' -f2): the workload, packaged for both kinds of guest"
printf '%-22s %10s  %s\n' FILE BYTES SHA256
for f in bzImage vmlinux initramfs.cpio.gz rootfs.ext4; do
    [ -f "$img/$f" ] || { echo "demo: $img/$f missing (run: make images)" >&2; exit 1; }
    printf '%-22s %10s  %s\n' "$f" "$(stat -c %s "$img/$f")" "$(sha256sum "$img/$f" | cut -c1-16)"
done
idx=$img/oci/index.json
[ -f "$idx" ] || { echo "demo: $idx missing (run: make images)" >&2; exit 1; }
jq -r '.manifests[] | "oci/ \(.annotations["org.opencontainers.image.ref.name"])  \(.digest)"' "$idx"

echo
echo "== booting it as a microVM: cloudlet vm run --cpus 2 (the guest prints its ready marker, runs uname and nproc, reboots)"
tests/kvmhost/run --timeout 600 -- "$b/cloudlet" vm run --stats --cpus 2 --timeout 300s \
    -k "$img/bzImage" -i "$img/initramfs.cpio.gz" \
    -c 'console=ttyS0 reboot=k panic=-1 pci=off quiet -- run sh -c "uname -sr; nproc"' </dev/null

echo
echo "== one VPC for both kinds: a container and a microVM on one subnet, talking both ways, then torn down"
tests/kvmhost/run --timeout 900 -- bash mk/demo-vpc.sh
