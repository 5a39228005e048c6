#!/usr/bin/env bash
# Install the Debian 12 packages cloudlet needs to build, test and make its
# images. Idempotent: silent when everything is present.
set -euo pipefail

pkgs=(
    # build
    build-essential pkg-config linux-libc-dev
    libseccomp-dev libcap-dev libjson-c-dev libarchive-dev
    # net/: netlink (libnl-route-3) and nftables (libnftables; nft to inspect)
    libnl-3-dev libnl-route-3-dev libnftables-dev nftables
    # fn/: the gateway (libmicrohttpd), `fn invoke` as its client (libcurl),
    # the MQTT trigger (libmosquitto; the mosquitto broker and its
    # command-line clients for the tests)
    libmicrohttpd-dev libcurl4-openssl-dev libmosquitto-dev mosquitto mosquitto-clients
    # net/sdn/: the controller's stores (embedded SQLite; etcd's v3 JSON API
    # over libcurl, and etcd itself, started by the tests on loopback)
    libsqlite3-dev etcd-server etcd-client
    # tests
    libcriterion-dev iproute2 acpica-tools
    # tests/e2e/sdn.sh: etcd's /metrics (its request counters)
    curl
    # tests: the libFuzzer target (clang with its fuzzer runtime)
    clang libclang-rt-14-dev
    # images: workload packagings (initramfs, ext4, OCI layout)
    busybox-static cpio e2fsprogs jq libarchive-tools umoci
    # images: the guest kernel from Debian's source
    linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils
    # tests/kvmhost: the emulated KVM host
    qemu-system-x86 kmod
    # benchmarks: the reference container runtimes
    runc crun
    # tests/e2e/podman.sh: cloudlet-runtime and cloudlet-cni under podman
    # (with conmon) and containerd (its runc shim, ctr)
    podman conmon containerd
    # tests/kvm/seccomp-usage.py: which allowed syscalls the VMM uses
    strace
    # tests: Python's XML parser checks `bench all --plot`'s SVG (tests/e2e/bench.sh)
    python3
)

missing=()
for p in "${pkgs[@]}"; do
    case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" in
        ii*) ;;
        *) missing+=("$p") ;;
    esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# refresh the package lists when they are absent or older than a day
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/cloudlet-deps.log 2>&1 || {
    tail -20 /tmp/cloudlet-deps.log >&2
    echo "deps: apt-get install failed (log: /tmp/cloudlet-deps.log)" >&2
    exit 1
}
echo "deps: done"
