#!/usr/bin/env bash
# cloudlet-runtime under the tools people run containers with, natively, as
# root: Debian's podman 4.3 + conmon (`podman --runtime`: run, exit codes,
# -it, exec, exec -it, stop, rm, --memory, --pids-limit), Debian's
# containerd through its runc shim (`ctr run --runc-binary`), and
# cloudlet-cni as a podman network (CNI backend) that puts a podman
# container on a cloudlet VPC subnet next to a `ct run` container.
# Everything is private to the test: podman's storage and run roots, the
# runtime's --root (--runtime-flag), containerd's root, state and socket,
# the CNI config and plugin directories, the VPC's state root; the
# runtime's state is under its default root (/var/lib/cloudlet/ct: podman
# passes --runtime-flag to create and start but not to delete). Terminals
# for -it come from script(1). cgroups here may be v1: podman runs with
# --cgroup-manager cgroupfs (the runtime refuses --systemd-cgroup).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=$root/build/cloudlet
rt=$root/build/cloudlet-runtime
layout=$root/build/images/oci
[ "$(id -u)" = 0 ] || { t_skip "podman" "needs root"; t_end; }
for f in "$cl" "$rt" "$layout/index.json"; do
    [ -e "$f" ] || { t_fail "podman: $f" "missing (run: make all images)"; t_end; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-podman.XXXXXX")
rtroot=/var/lib/cloudlet   # the runtime's default --root (crun_default_root)
st=$tmp/cloudlet
export CONTAINERS_CONF=$tmp/containers.conf
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --cgroup-manager cgroupfs --events-backend none
   --runtime "$rt")
img=localhost/cloudlet-workload:latest
ctrd_pid=
cleanup() {
    if command -v podman >/dev/null; then
        "${P[@]}" rm -af -t 0 >/dev/null 2>&1
        "${P[@]}" system reset -f >/dev/null 2>&1
    fi
    [ -n "$ctrd_pid" ] && kill "$ctrd_pid" 2>/dev/null && wait "$ctrd_pid" 2>/dev/null
    rm -rf /run/containerd/runc/cloudlet-test   # the runc shim's --root for the runtime
    for c in $("$cl" --root "$st" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "$cl" --root "$st" ct rm -f "$c" >/dev/null 2>&1; done
    for v in $("$cl" --root "$st" vpc ls 2>/dev/null | awk 'NR>1{print $1}'); do "$cl" --root "$st" vpc rm --force "$v" >/dev/null 2>&1; done
    grep -o " $tmp/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/cni-bin" "$tmp/cni-conf" "$st"
ln -s "$cl" "$tmp/cni-bin/cloudlet-cni"   # argv[0] picks the CNI plugin
# podman's default rlimits (nofile, nproc 1048576) are above what a root
# without CAP_SYS_RESOURCE may set (runc fails the same way): lower ones
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$tmp/cni-bin"]
network_config_dir = "$tmp/cni-conf"
EOF

# every container podman made here: --cidfile gives its id
cid() { echo "--cidfile=$(mktemp -u "$tmp/cid.XXXXXX")"; }
# what is left of them: state, cgroups, conmon or container processes
leftovers() {
    for f in "$tmp"/cid.*; do
        [ -e "$f" ] || continue
        local id; id=$(cat "$f")
        [ -e "$rtroot/ct/$id" ] && echo "state $id"
        find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null | sed 's/^/cgroup /'
        pgrep -f "$id" | sed "s/^/process /"
    done
}

if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
    t_skip "podman" "podman or conmon is not installed (make deps)"
else
    "${P[@]}" pull -q "oci:$layout:latest" >"$tmp/id" 2>"$tmp/err" && "${P[@]}" tag "$(cat "$tmp/id")" "$img"
    t_check "podman loads the image from the project's OCI layout" test -n "$("${P[@]}" images -q "$img")"
    R() { "${P[@]}" run "$(cid)" --rm --pull never --network none "$@"; }

    out=$(R "$img" run sh -c 'echo hello; cat /proc/1/comm' 2>&1); rc=$?
    t_eq "podman run --rm: output and status" "0 hello cloudlet-init" "$rc $(grep -e hello -e init <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    out=$(R --ulimit nofile=512:900 --ulimit nproc=1024:1024 "$img" run sh -c 'echo "n=$(ulimit -n) h=$(ulimit -Hn)"' 2>&1)
    t_eq "podman run --ulimit: process.rlimits applied" "n=512 h=900" "$(grep n= <<<"$out")"
    # podman's own default seccomp profile (linux.seccomp in its config.json), compiled by the runtime
    out=$(R "$img" run sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d && echo made' 2>&1)
    t_eq "podman run: podman's default seccomp profile applied, the workload runs" "Seccomp: 2 made" \
        "$(grep -e Seccomp -e made <<<"$out" | tr -s '\t\n' '  ' | sed 's/ $//')"
    cat >"$tmp/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}
EOF
    out=$(R --security-opt seccomp="$tmp/seccomp.json" "$img" run mkdir /tmp/d 2>&1)
    t_check "podman run --security-opt seccomp=FILE: its errnoRet reaches mkdir ($(grep -m1 mkdir <<<"$out"))" grep -q 'No space left on device' <<<"$out"
    R "$img" run sh -c 'exit 42' >/dev/null 2>&1
    t_eq "podman run: the process's exit status" "42" "$?"
    R "$img" run /no/such >/dev/null 2>&1
    t_eq "podman run: a missing executable is 127" "127" "$?"
    out=$(timeout 60 script -qec "${P[*]} run $(cid) -it --rm --pull never --network none $img run sh -c 'tty; exit 3'" /dev/null 2>&1); rc=$?
    t_check "podman run -it: a terminal, the status ($rc)" test "$rc" = 3 -a -n "$(grep /dev/pts/ <<<"$out")"

    "${P[@]}" run "$(cid)" -d --name "pm-$$" --pull never --network none --memory 64m --pids-limit 20 "$img" run sleep 300 >/dev/null 2>&1
    id=$("${P[@]}" inspect -f '{{.Id}}' "pm-$$" 2>/dev/null)
    t_eq "podman run -d: running (runtime state)" "running" "$("$rt" --root "$rtroot" state "$id" 2>/dev/null | jq -r .status)"
    cgs=$(jq -r '.cgroup.paths[]' "$rtroot/ct/$id/state.json" 2>/dev/null)
    mem=$(for d in $cgs; do cat "$d/memory.limit_in_bytes" "$d/memory.max" 2>/dev/null; done | head -1)
    pids=$(for d in $cgs; do cat "$d/pids.max" 2>/dev/null; done | head -1)
    t_eq "--memory 64m and --pids-limit 20 in the container's cgroup" "67108864 20" "$mem $pids"
    t_check "the cgroup is where podman's cgroupsPath says (/libpod_parent/libpod-ID): $(echo $cgs | cut -c1-120)" \
        test -n "$cgs" -a -z "$(tr ' ' '\n' <<<"$cgs" | grep -v "/libpod_parent/libpod-$id\$")"
    "${P[@]}" pause "pm-$$" >/dev/null 2>&1
    t_eq "podman pause: paused (the runtime froze its cgroup)" "paused paused" \
        "$("${P[@]}" inspect -f '{{.State.Status}}' "pm-$$") $("$rt" --root "$rtroot" state "$id" 2>/dev/null | jq -r .status)"
    "${P[@]}" unpause "pm-$$" >/dev/null 2>&1
    t_eq "podman unpause: running" "running" "$("${P[@]}" inspect -f '{{.State.Status}}' "pm-$$")"
    out=$("${P[@]}" exec "pm-$$" sh -c 'echo in-exec; exit 5' 2>&1); rc=$?
    t_eq "podman exec: output and status" "5 in-exec" "$rc $out"
    out=$(timeout 60 script -qec "${P[*]} exec -it pm-$$ sh -c 'tty; exit 4'" /dev/null 2>&1); rc=$?
    t_check "podman exec -it: a terminal, the status ($rc)" test "$rc" = 4 -a -n "$(grep /dev/pts/ <<<"$out")"
    "${P[@]}" stop -t 5 "pm-$$" >/dev/null 2>&1
    t_eq "podman stop: exited on SIGTERM (143)" "exited 143" "$("${P[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "pm-$$")"
    "${P[@]}" rm "pm-$$" >/dev/null
    t_eq "podman rm" "0" "$?"
    t_check "the runtime's state is gone with it" test ! -e "$rtroot/ct/$id"

    # ---- a podman network through cloudlet-cni ----
    if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then modprobe br_netfilter 2>/dev/null; fi
    C=("$cl" --root "$st")
    "${C[@]}" vpc create v1 --cidr 10.50.0.0/16 && "${C[@]}" vpc subnet create v1/a --cidr 10.50.1.0/24
    cat >"$tmp/cni-conf/clnet-$$.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "clnet-$$", "plugins": [{"type": "cloudlet-cni", "vpc": "v1", "subnet": "a", "root": "$st"}]}
EOF
    t_eq "podman network ls shows the cloudlet-cni network" "cloudlet-cni" \
        "$("${P[@]}" network ls --format '{{.Name}} {{.Driver}}' | awk -v n="clnet-$$" '$1 == n {print $2}')"
    "${C[@]}" ct run -d --name "srv-$$" --net v1/a "$layout" serve >/dev/null 2>&1
    for _ in $(seq 100); do grep -q cloudlet-serving "$st/ct/srv-$$/log" 2>/dev/null && break; sleep 0.1; done
    ctip=$("${C[@]}" vpc show v1 | awk -v id="srv-$$" '$2 == id {print $4; exit}')
    ctip=${ctip%/*}
    "${P[@]}" run "$(cid)" -d --name "pn-$$" --pull never --network "clnet-$$" "$img" serve >/dev/null 2>&1
    pid=$("${P[@]}" inspect -f '{{.Id}}' "pn-$$" 2>/dev/null)
    pip=$("${C[@]}" vpc show v1 | awk -v id="$pid" '$2 == id {print $4; exit}')
    pip=${pip%/*}
    t_check "the podman container holds a lease of the subnet ($pip), listed by vpc show" grep -q '^10\.50\.1\.' <<<"$pip"
    reach() { "${P[@]}" exec "pn-$$" sh -c "ping -c2 -W3 $ctip >/dev/null && echo hello | nc -w 5 $ctip 7" 2>&1; }
    t_eq "podman container -> ct run container ($ctip): ping + TCP echo" "hello" "$(reach || reach)"
    back=$("${C[@]}" ct run --net v1/a "$layout" run sh -c "echo hello | nc -w 5 $pip 7" 2>&1 | grep -x hello)
    t_eq "ct run container -> podman container ($pip): TCP echo" "hello" "$back"
    "${P[@]}" rm -f -t 0 "pn-$$" >/dev/null 2>&1
    t_eq "podman rm: CNI DEL released the lease" "" "$("${C[@]}" vpc show v1 | awk -v id="$pid" '$2 == id')"
    "${C[@]}" ct rm -f "srv-$$" >/dev/null 2>&1
    t_check "vpc rm (nothing of podman's still attached)" "${C[@]}" vpc rm v1
    t_eq "podman: nothing left of its $(ls "$tmp"/cid.* | wc -l) containers (runtime state, cgroups, processes)" "" "$(leftovers)"
fi

# ---- bench oci, one run: the columns, the JSON (timings are its report, not asserted) ----
if command -v podman >/dev/null; then
    "$cl" bench oci --runs 1 --json "$tmp/oci.json" >"$tmp/bench.out" 2>"$tmp/bench.err"
    t_eq "bench oci --runs 1 exits 0" "0" "$?"
    quiet() { "$@" >/dev/null; }
    t_check "bench oci: cloudlet's run measured ($(grep '^cloudlet ' "$tmp/bench.out"))" \
        quiet jq -e '.benchmark == "oci" and (.series[0].run_ms.samples | length) == 1 and .series[0].run_ms.samples[0] > 0' "$tmp/oci.json"
    if command -v runc >/dev/null; then
        t_check "bench oci: runc alongside, with a ratio" grep -qE '^ratio .*\(cloudlet / runc, medians\)' "$tmp/bench.out"
    fi
fi

# ---- containerd through its runc shim ----
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
    t_skip "containerd" "containerd is not installed (make deps)"
else
    cat >"$tmp/containerd.toml" <<EOF
version = 2
root = "$tmp/ctrd/root"
state = "$tmp/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$tmp/ctrd/sock"
[ttrpc]
  address = "$tmp/ctrd/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
    mkdir -p "$tmp/ctrd"
    containerd --config "$tmp/containerd.toml" >"$tmp/ctrd/log" 2>&1 &
    ctrd_pid=$!
    for _ in $(seq 100); do [ -S "$tmp/ctrd/sock" ] && break; sleep 0.1; done
    CT=(ctr --address "$tmp/ctrd/sock" -n cloudlet-test)
    tar -C "$layout" -cf "$tmp/image.tar" .
    "${CT[@]}" images import --index-name cloudlet/workload:latest "$tmp/image.tar" >/dev/null 2>&1
    out=$(timeout 60 "${CT[@]}" run --rm --runc-binary "$rt" cloudlet/workload:latest "c-$$" /init run sh -c 'echo hello-ctr; exit 6' 2>&1); rc=$?
    t_eq "ctr run --runc-binary: output and status" "6 hello-ctr" "$rc $(grep hello <<<"$out")"
    t_eq "ctr: the task and container are gone" "" "$("${CT[@]}" containers ls -q)"
fi
t_end
