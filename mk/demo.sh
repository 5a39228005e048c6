#!/usr/bin/env bash
# The README's main job. Until the VMM lands (issue #4) it shows what both
# kinds of guest will run: the image inventory.
set -euo pipefail
cd "$(dirname "$0")/.."
img=${BUILD:-build}/images
echo "cloudlet $(build/cloudlet --version | cut -d' ' -f2): the workload, packaged for both kinds of guest"
printf '%-22s %10s  %s\n' FILE BYTES SHA256
for f in bzImage vmlinux initramfs.cpio.gz rootfs.ext4; do
    [ -f "$img/$f" ] || { echo "demo: $img/$f missing (run: make images)" >&2; exit 1; }
    printf '%-22s %10s  %s\n' "$f" "$(stat -c %s "$img/$f")" "$(sha256sum "$img/$f" | cut -c1-16)"
done
idx=$img/oci/index.json
[ -f "$idx" ] || { echo "demo: $idx missing (run: make images)" >&2; exit 1; }
jq -r '.manifests[] | "oci/ \(.annotations["org.opencontainers.image.ref.name"])  \(.digest)"' "$idx"
echo "kernel: $(strings -n 20 "$img/bzImage" | grep -m1 '^6\.1\.')"
