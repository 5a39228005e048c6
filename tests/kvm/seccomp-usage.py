#!/usr/bin/env python3
"""Is the VMM's allowlist wider than it needs? Runs the boot + disk + network
workload (a jailed VM, 2 vCPUs, root=/dev/vda rw, a tap in a network namespace
of its own, virtio-rng, a --timeout) under strace -f, counts the syscalls each
thread makes after it installed its filter (its seccomp(2) call), by thread
kind (the PR_SET_NAME that precedes it: cl-vmm, cl-vcpuN), and prints, per
kind, what was used and what is allowed but was never used. README.md
("The allowlist, audited") explains each row kept.

    tests/kvmhost/run -- tests/kvm/seccomp-usage.py [--json FILE]

Needs root, strace, a working /dev/kvm (hence the harness), build/cloudlet and
build/images. Not a test suite (tests/kvm/run runs *.sh only): strace under
an emulated KVM host takes minutes."""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CL = os.environ.get("CLOUDLET", os.path.join(ROOT, "build", "cloudlet"))
IMG = os.path.join(ROOT, "build", "images")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def allowlists():
    prof = json.loads(subprocess.run([CL, "vm", "seccomp-profile", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    return {t["kind"]: [c["name"] for c in t["syscalls"]] for t in prof["threads"]}


def workload(trace):
    tmp = tempfile.mkdtemp(prefix="cloudlet-sc-usage.", dir="/dev/shm")
    ns = "clscu%d" % os.getpid()
    try:
        disk = os.path.join(tmp, "disk.ext4")
        shutil.copy(os.path.join(IMG, "rootfs.ext4"), disk)
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "tuntap", "add", "dev", "cltap0", "mode", "tap"])
        run(["ip", "-n", ns, "addr", "add", "10.79.0.1/24", "dev", "cltap0"])
        run(["ip", "-n", ns, "link", "set", "cltap0", "up"])
        guest = ("ping -c 3 -W 10 10.79.0.1; dd if=/dev/vda of=/dev/null bs=64k count=64; "
                 "echo usage > /f; sync; head -c 4096 /dev/hwrng | wc -c; cat /sys/block/vda/serial")
        cmdline = ("console=ttyS0 reboot=k panic=-1 pci=off root=/dev/vda rw "
                   "ip=10.79.0.2::10.79.0.1:255.255.255.0::eth0:off -- run sh -c \"%s\"" % guest)
        with open(os.path.join(tmp, "out"), "w") as out:
            r = subprocess.run(["nsenter", "--net=/run/netns/" + ns, "strace", "-f", "-qq", "-o", trace,
                                CL, "vm", "run", "--timeout", "600s", "--cpus", "2", "--stats",
                                "--jail-base", tmp, "-k", os.path.join(IMG, "bzImage"),
                                "--disk", disk, "--net", "tap=cltap0", "-c", cmdline],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit("the workload failed (exit %d): %s" % (r.returncode, r.stderr.strip()))
    finally:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)")


def usage(trace):
    kind_of, filtered = {}, set()
    used = collections.defaultdict(collections.Counter)
    with open(trace) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            tid, name = int(m.group(1)), m.group(2)
            if "resumed>" in line:
                continue   # counted at its start
            if name == "prctl" and "PR_SET_NAME" in line:
                n = re.search(r'"cl-(vmm|vcpu)', line)
                if n:
                    kind_of[tid] = n.group(1)
            if tid in filtered:
                used[kind_of[tid]][name] += 1
            if name == "seccomp" and "SECCOMP_SET_MODE_FILTER" in line and tid in kind_of:
                filtered.add(tid)
    return used


def main():
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    allowed = allowlists()
    trace = tempfile.mktemp(prefix="cloudlet-sc-trace.", dir="/dev/shm")
    try:
        workload(trace)
        used = usage(trace)
    finally:
        if os.path.exists(trace):
            os.unlink(trace)
    report = {}
    for kind, names in allowed.items():
        u = used.get(kind, {})
        outside = sorted(set(u) - set(names))
        unused = [n for n in names if n not in u]
        report[kind] = {"allowed": len(names), "used": {n: u[n] for n in sorted(u)},
                        "allowed_unused": unused, "used_outside": outside}
        print("%s thread: %d allowed, %d used after its filter" % (kind, len(names), len(u)))
        print("  used:   " + " ".join("%s(%d)" % (n, u[n]) for n in sorted(u)))
        print("  allowed, never used: " + (" ".join(unused) or "none"))
        if outside:
            print("  USED BUT NOT ALLOWED (under strace only?): " + " ".join(outside))
    if out_json:
        with open(out_json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
