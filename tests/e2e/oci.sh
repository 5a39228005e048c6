#!/usr/bin/env bash
# `cloudlet-runtime`: the OCI runtime lifecycle (runtime-spec runtime.md)
# driven verb by verb on a bundle made from the workload's root filesystem,
# natively, as root: create -> created (the process waits) -> start ->
# running -> kill -> stopped -> delete; run and its exit status; hooks with
# the state on stdin; a bundle's namespaces (a netns joined by path), bind
# mounts and limits; bad input (runc-style errors, JSON with --log-format
# json, exit 1, nothing left); concurrent calls on different ids; and at
# the end no mount, cgroup, state, netns or process of ours.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

rt=${CLOUDLET_RUNTIME:-$root/build/cloudlet-runtime}
rootfs=$root/build/images/rootfs
if [ "$(id -u)" != 0 ]; then
    t_skip "oci" "needs root (namespaces, cgroups, mounts)"
    t_end
fi
for f in "$rt" "$rootfs/init"; do
    [ -e "$f" ] || { t_fail "oci: $f" "missing (run: make all images)"; t_end; }
done
command -v jq >/dev/null || { t_fail "oci: jq" "missing (make deps)"; t_end; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-oci.XXXXXX")
state=$tmp/state
ns=cloudlet-oci-$$
cleanup() {
    for id in $("$rt" --root "$state" list -q 2>/dev/null); do
        "$rt" --root "$state" delete --force "$id" >/dev/null 2>&1
    done
    ip netns del "$ns" 2>/dev/null
    find /sys/fs/cgroup -depth -type d -path "*/cloudlet-oci-$$*" -exec rmdir {} + 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

R() { "$rt" --root "$state" "$@"; }
# call: R ARGS... -> $out $errout $rc
call() { R "$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?; out=$(cat "$tmp/out"); errout=$(cat "$tmp/err"); }
status_of() { R state "$1" 2>/dev/null | jq -r .status; }
# wait until the container's status is $2 (the init is reaped by whoever adopted it)
wait_status() { for _ in $(seq 100); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.05; done; return 1; }

# bundle DIR [JQ-FILTER]: the workload's rootfs and `spec`'s config.json, edited
bundle() {
    local b=$1 f=${2:-.}
    mkdir -p "$b" && cp -a "$rootfs" "$b/rootfs"
    (cd "$b" && "$rt" spec) || return 1
    jq ".process.terminal = false | .root.readonly = false | $f" "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
}

snapshot() {
    # (other suites' network namespaces come and go meanwhile: ours by name;
    # /run/netns itself is iproute2's, made shared by the first `ip netns add`)
    echo "# mounts"; awk '{print $5}' /proc/self/mountinfo | grep -v -e "^$tmp" -e '^/run/netns$' -e '^/run/netns/' | sort
    echo "# netns"; ls /run/netns 2>/dev/null | grep -x "$ns"
    echo "# cgroups"; find /sys/fs/cgroup -type d \( -path '*/cloudlet*/*' -name "oci-$$-*" -o -name "cloudlet-oci-$$*" -o -name "rel-$$" \) 2>/dev/null | sort
    echo "# state"; ls -A "$state/ct" 2>/dev/null | grep -vx .lock
    echo "# processes"; for p in /proc/[0-9]*; do case $(readlink "$p/root" 2>/dev/null) in "$tmp"/*) echo "$p";; esac; done
}
snapshot >"$tmp/before"

# ---- the lifecycle, verb by verb ----
b=$tmp/b1
bundle "$b" '.process.args = ["sh", "-c", "echo started > /tmp/marker; echo out-of-the-container; exec sleep 100"] | .annotations = {"org.example.k": "v"}'
id=oci-$$-a
call create --bundle "$b" --pid-file "$tmp/pid" "$id"
t_eq "create exits 0" "0" "$rc"
pid=$(cat "$tmp/pid" 2>/dev/null)
t_check "create wrote --pid-file with a live pid ($pid)" kill -0 "${pid:-0}"
call state "$id"
t_eq "state after create: created" "created" "$(jq -r .status <<<"$out")"
t_eq "state: ociVersion, id, pid, bundle, annotations" "1.1.0 $id $pid $b v" \
    "$(jq -r '[.ociVersion, .id, (.pid|tostring), .bundle, .annotations["org.example.k"]] | join(" ")' <<<"$out")"
sleep 0.3
t_check "created: the user process has not run yet" test ! -e "$b/rootfs/tmp/marker"
call start "$id"
t_eq "start exits 0" "0" "$rc"
t_eq "the pid is the container's init" "cloudlet-init" "$(cat /proc/"$pid"/comm 2>/dev/null)"
for _ in $(seq 50); do [ -e "$b/rootfs/tmp/marker" ] && break; sleep 0.05; done
t_check "started: the user process ran" test -e "$b/rootfs/tmp/marker"
t_eq "state after start: running" "running" "$(status_of "$id")"
call start "$id"
t_check "start on a running container fails (exit 1, one line naming it)" \
    test "$rc" = 1 -a -n "$(grep "$id" <<<"$errout")" -a "$(wc -l <<<"$errout")" = 1
t_eq "... and leaves it running" "running" "$(status_of "$id")"
call delete "$id"
t_check "delete of a running container without --force fails: $errout" test "$rc" = 1 -a -n "$(grep 'not stopped' <<<"$errout")"
t_eq "... and leaves it running" "running" "$(status_of "$id")"
call ps --format json "$id"
t_check "ps --format json lists the init ($out)" test "$(jq "index($pid)" <<<"$out")" != null
call list --format json
t_eq "list --format json shows it" "running" "$(jq -r ".[] | select(.id == \"$id\") | .status" <<<"$out")"
call pause "$id"
t_eq "pause: its cgroup frozen, state paused" "0 paused" "$rc $(status_of "$id")"
call pause "$id"
t_check "pause on a paused container fails: $errout" test "$rc" = 1
call resume "$id"
t_eq "resume: running again" "0 running" "$rc $(status_of "$id")"
call kill "$id" TERM
t_eq "kill TERM exits 0" "0" "$rc"
wait_status "$id" stopped
t_eq "state after kill: stopped, no pid" "stopped null" "$(R state "$id" | jq -r '[.status, (.pid|tostring)] | join(" ")')"
call kill "$id" KILL
t_check "kill on a stopped container fails" test "$rc" = 1
call delete "$id"
t_eq "delete exits 0" "0" "$rc"
call state "$id"
t_check "state after delete: 'does not exist', exit 1" test "$rc" = 1 -a -n "$(grep 'does not exist' <<<"$errout")"

# ---- run: create + start + wait + delete, the process's status ----
b=$tmp/b2
bundle "$b" '.process.args = ["sh", "-c", "echo hi-$(hostname); exit 7"] | .hostname = "ocibox"'
call run --bundle "$b" "oci-$$-run"
t_eq "run: the container's exit status" "7" "$rc"
t_eq "run: its stdout, hostname from config.json" "hi-ocibox" "$out"
t_check "run: deleted afterwards" test -z "$(R list -q | grep -x "oci-$$-run")"

# ---- the bundle drives namespaces, mounts, limits, caps ----
ip netns add "$ns"
mkdir -p "$tmp/data"
b=$tmp/b3
bundle "$b" ".process.args = [\"sh\", \"-c\", \"readlink /proc/self/ns/net; echo w > /data/f; grep CapBnd /proc/self/status\"]
  | .linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$ns\" else . end)
  | .mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$tmp/data\", \"options\": [\"rbind\", \"rw\"]}]
  | .linux.resources = {\"memory\": {\"limit\": 67108864}, \"pids\": {\"limit\": 50}}
  | .process.capabilities.bounding = [\"CAP_KILL\"]"
R create --bundle "$b" "oci-$$-ns" >"$tmp/out" 2>"$tmp/err"   # the container's stdio is create's
cg=$(jq -r '.cgroup.paths[]' "$state/ct/oci-$$-ns/state.json" 2>/dev/null | grep -m1 memory)
[ -n "$cg" ] || cg=$(jq -r '.cgroup.paths[0]' "$state/ct/oci-$$-ns/state.json" 2>/dev/null)
mem=$(cat "$cg/memory.limit_in_bytes" 2>/dev/null || cat "$cg/memory.max" 2>/dev/null)
t_eq "linux.resources.memory.limit in the container's cgroup" "67108864" "$mem"
netinode=$(ip netns exec "$ns" readlink /proc/self/ns/net)
R start "oci-$$-ns"
wait_status "oci-$$-ns" stopped
ip netns del "$ns"
t_eq "a network namespace joined by path" "$netinode" "$(sed -n 1p "$tmp/out")"
t_eq "a bind mount from config.json" "w" "$(cat "$tmp/data/f" 2>/dev/null)"
t_eq "process.capabilities.bounding: only CAP_KILL (bit 5)" "CapBnd:	0000000000000020" "$(sed -n 2p "$tmp/out")"
R delete "oci-$$-ns"

# ---- hooks: the state on stdin ----
b=$tmp/b4
cat >"$tmp/hook" <<EOF
#!/bin/sh
cat > "$tmp/hook.\$1"
EOF
chmod +x "$tmp/hook"
bundle "$b" ".process.args = [\"true\"] | .hooks = {
  \"prestart\": [{\"path\": \"$tmp/hook\", \"args\": [\"hook\", \"prestart\"]}],
  \"createRuntime\": [{\"path\": \"$tmp/hook\", \"args\": [\"hook\", \"createRuntime\"]}],
  \"poststart\": [{\"path\": \"$tmp/hook\", \"args\": [\"hook\", \"poststart\"]}],
  \"poststop\": [{\"path\": \"$tmp/hook\", \"args\": [\"hook\", \"poststop\"]}]}"
R run --bundle "$b" "oci-$$-hooks" >/dev/null 2>&1
for h in prestart:creating createRuntime:creating poststart:running poststop:stopped; do
    t_eq "hook ${h%%:*}: the state on stdin" "oci-$$-hooks ${h#*:}" \
        "$(jq -r '[.id, .status] | join(" ")' "$tmp/hook.${h%%:*}" 2>/dev/null)"
done
b=$tmp/b5
bundle "$b" '.process.args = ["true"] | .hooks = {"createRuntime": [{"path": "/bin/false"}]}'
call create --bundle "$b" "oci-$$-badhook"
t_check "a failing createRuntime hook fails create: $errout" test "$rc" = 1 -a -n "$(grep createRuntime <<<"$errout")"
t_check "... and leaves no state" test ! -e "$state/ct/oci-$$-badhook"
# createContainer: in the container's namespaces, before pivot_root (its
# path resolves on the host); startContainer: in the container, its path
# in the container's root, before the user's process
b=$tmp/b9
cat >"$tmp/hook-cc" <<EOF
#!/bin/sh
cat > "$tmp/hook.createContainer"
echo "\$(hostname) \$(readlink /proc/self/ns/uts)" > "$tmp/hook.cc-ns"
EOF
chmod +x "$tmp/hook-cc"
bundle "$b" ".process.args = [\"sh\", \"-c\", \"test -e /tmp/start-state && echo after-start-hook\"] | .hostname = \"hookbox\"
  | .hooks = {\"createContainer\": [{\"path\": \"$tmp/hook-cc\"}],
              \"startContainer\": [{\"path\": \"/hook-start\", \"args\": [\"hook-start\", \"x\"], \"timeout\": 5}]}"
printf '#!/bin/sh\necho "$1 $(hostname)" > /tmp/start-args; cat > /tmp/start-state\n' >"$b/rootfs/hook-start"
chmod +x "$b/rootfs/hook-start"
R create --bundle "$b" --pid-file "$tmp/hpid" "oci-$$-cc" >"$tmp/out" 2>"$tmp/err"
t_eq "createContainer: the state on stdin (creating, the init's pid)" "oci-$$-cc creating $(cat "$tmp/hpid" 2>/dev/null) $b" \
    "$(jq -r '[.id, .status, (.pid|tostring), .bundle] | join(" ")' "$tmp/hook.createContainer" 2>/dev/null)"
read -r hh hns <"$tmp/hook.cc-ns"
t_check "createContainer: in the container's uts namespace ($hh $hns)" test "$hh" = hookbox -a "$hns" != "$(readlink /proc/self/ns/uts)"
t_check "startContainer: not run by create" test ! -e "$b/rootfs/tmp/start-state"
R start "oci-$$-cc"
wait_status "oci-$$-cc" stopped
t_eq "startContainer: in the container (its path, hostname), the state (created), args" "oci-$$-cc created x hookbox" \
    "$(jq -r '[.id, .status] | join(" ")' "$b/rootfs/tmp/start-state" 2>/dev/null) $(cat "$b/rootfs/tmp/start-args")"
t_eq "startContainer: before the user's process" "after-start-hook" "$(cat "$tmp/out")"
R delete "oci-$$-cc"
b=$tmp/b10
bundle "$b" '.process.args = ["true"] | .hooks = {"createContainer": [{"path": "/bin/false"}]}'
call create --bundle "$b" "oci-$$-badcc"
t_check "a failing createContainer hook fails create in one line: $errout" \
    test "$rc" = 1 -a -n "$(grep 'hook createContainer /bin/false: exited with status 1' <<<"$errout")" -a "$(wc -l <<<"$errout")" = 1
t_check "... and leaves no state" test ! -e "$state/ct/oci-$$-badcc"
b=$tmp/b11
bundle "$b" '.process.args = ["sh", "-c", "echo ran > /tmp/ran"] | .hooks = {"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "10"], "timeout": 1}]}'
R create --bundle "$b" "oci-$$-badsc" >/dev/null 2>&1
call start "oci-$$-badsc"
t_check "a startContainer hook past its timeout fails start in one line: $errout" \
    test "$rc" = 1 -a -n "$(grep 'hook startContainer /bin/sleep: timed out after 1 s' <<<"$errout")" -a "$(wc -l <<<"$errout")" = 1
wait_status "oci-$$-badsc" stopped
t_check "... the container stopped, its process never ran" test "$(status_of "oci-$$-badsc")" = stopped -a ! -e "$b/rootfs/tmp/ran"
call delete "oci-$$-badsc"
t_eq "... and delete cleans up" "0" "$rc"
bundle "$tmp/b12" '.process.args = ["true"] | .hooks = {"startContainer": [{"path": "/bin/false"}]}'
call run --bundle "$tmp/b12" "oci-$$-badsc2"
t_check "run with a failing startContainer hook: one line, exit 1: $errout" \
    test "$rc" = 1 -a "$(wc -l <<<"$errout")" = 1 -a -n "$(grep startContainer <<<"$errout")"

# ---- the bundle's own linux.seccomp (config-linux.md "Seccomp") ----
b=$tmp/sc1
bundle "$b" '.process.args = ["sh", "-c", "mkdir /tmp/a; echo mkdir=$?; linux64 true; echo linux64=$?; linux32 true; echo linux32=$?"]
  | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "syscalls": [{"names": ["mkdir", "mkdirat", "no_such_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
                   {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                    "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
call run --bundle "$b" "oci-$$-sc1"
t_check "seccomp: mkdir fails with errnoRet 28 ($(head -1 <<<"$errout"))" grep -q 'No space left on device' "$tmp/err"
t_eq "seccomp: mkdir, personality(PER_LINUX) allowed, personality(PER_LINUX32) refused" \
    "mkdir=1 linux64=0 linux32=1" "$(echo $out)"
b=$tmp/sc2
bundle "$b" '.process.args = ["mkdir", "/tmp/a"]
  | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
call run --bundle "$b" "oci-$$-sc2"
t_eq "seccomp: SCMP_ACT_KILL_PROCESS on mkdir: killed by SIGSYS (exit 159)" "159" "$rc"
jq '.process.args = ["grep", "^Seccomp:", "/proc/self/status"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
call run --bundle "$b" "oci-$$-sc2b"
t_eq "seccomp: the user process runs filtered" "Seccomp: 2" "$(tr -s '\t' ' ' <<<"$out")"
b=$tmp/sc3
bundle "$b" '.process.args = ["true"] | .linux.seccomp.defaultAction = "SCMP_ACT_SOMETIMES"'
call create --bundle "$b" "oci-$$-sc3"
t_eq "seccomp: an unknown action, one line naming it" \
    "1 cloudlet-runtime: config.json: unknown seccomp action 'SCMP_ACT_SOMETIMES'" "$rc $(sed 's/linux.seccomp.defaultAction: //' <<<"$errout")"
t_check "... and no state left" test ! -e "$state/ct/oci-$$-sc3"
b=$tmp/sc4
bundle "$b" '.process.args = ["true"] | .linux.seccomp.defaultAction = "SCMP_ACT_ALLOW" | .linux.seccomp.syscalls = [{"names": ["mkdir"], "action": "SCMP_ACT_KILL", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_MAYBE"}]}]'
call create --bundle "$b" "oci-$$-sc4"
t_check "seccomp: an unknown operator, one line naming it: $errout" \
    test "$rc" = 1 -a "$(grep -c "unknown seccomp operator 'SCMP_CMP_MAYBE'" <<<"$errout")" = 1 -a "$(wc -l <<<"$errout")" = 1
t_check "... and no state left" test ! -e "$state/ct/oci-$$-sc4"

# ---- linux.cgroupsPath (config-linux.md "Cgroups Path"), cgroupfs forms ----
# v1 (this CI): the memory and pids hierarchies; v2: the unified one
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    cgv=2 memdir=/sys/fs/cgroup pidsdir=/sys/fs/cgroup memfile=memory.max
else
    cgv=1 memdir=/sys/fs/cgroup/memory pidsdir=/sys/fs/cgroup/pids memfile=memory.limit_in_bytes
fi
# the cgroup of pid $1 in the pids hierarchy (v2: the one)
cg_of() { local k=; [ "$cgv" = 1 ] && k=pids; sed -nE "s/^[0-9]+:$k:(.*)/\1/p" /proc/"$1"/cgroup 2>/dev/null; }
b=$tmp/cg1
cgp=/cloudlet-oci-$$/a/c1
bundle "$b" ".process.args = [\"sleep\", \"100\"] | .linux.cgroupsPath = \"$cgp\" | .linux.resources = {\"memory\": {\"limit\": 33554432}}"
call create --bundle "$b" --pid-file "$tmp/cgpid" "oci-$$-cg1"
pid=$(cat "$tmp/cgpid" 2>/dev/null)
t_eq "cgroupsPath (absolute, cgroup v$cgv): the init in it" "$cgp" "$(cg_of "${pid:-0}")"
[ "$cgv" = 1 ] && t_eq "cgroupsPath: in the memory hierarchy too" "memory:$cgp" "$(grep -oE 'memory:.*' /proc/"${pid:-0}"/cgroup)"
t_eq "cgroupsPath: the limit written there" "33554432" "$(cat "$memdir$cgp/$memfile" 2>/dev/null)"
R delete --force "oci-$$-cg1"
t_eq "cgroupsPath: delete removes it and the parents it made" "" \
    "$(find /sys/fs/cgroup -maxdepth 2 -name "cloudlet-oci-$$" 2>/dev/null)"
# a parent that was there before stays
mkdir "$pidsdir/cloudlet-oci-$$-keep"
b=$tmp/cg2
bundle "$b" ".process.args = [\"true\"] | .linux.cgroupsPath = \"/cloudlet-oci-$$-keep/c2\""
call run --bundle "$b" "oci-$$-cg2"
t_check "cgroupsPath: a parent made by someone else is kept, ours removed (rc $rc)" \
    test "$rc" = 0 -a -d "$pidsdir/cloudlet-oci-$$-keep" -a ! -e "$pidsdir/cloudlet-oci-$$-keep/c2"
[ "$cgv" = 1 ] && t_check "... and in the hierarchies where we made it, it is gone" test ! -e "$memdir/cloudlet-oci-$$-keep"
rmdir "$pidsdir/cloudlet-oci-$$-keep"
b=$tmp/cg3
bundle "$b" ".process.args = [\"sleep\", \"100\"] | .linux.cgroupsPath = \"rel-$$/a\""
call create --bundle "$b" --pid-file "$tmp/cgpid" "oci-$$-cg3"
cgs=$(cg_of "$(cat "$tmp/cgpid")")
jq '.linux.cgroupsPath = "rel-'$$'/b"' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
call create --bundle "$b" "oci-$$-cg3b"
R delete --force "oci-$$-cg3"
R delete --force "oci-$$-cg3b"
t_check "cgroupsPath (relative): under the runtime's own parent ($cgs)" \
    grep -qE "^/cloudlet-[0-9a-f]{8}/rel-$$/a\$" <<<"$cgs"
t_eq "cgroupsPath: two containers under one new directory, the first deleted first: none of it left" "" \
    "$(find /sys/fs/cgroup -maxdepth 3 -name "rel-$$" 2>/dev/null)"
b=$tmp/cg4
bundle "$b" '.process.args = ["true"] | .linux.cgroupsPath = "system.slice:cloudlet:abc"'
call create --bundle "$b" "oci-$$-cg4"
t_check "cgroupsPath in systemd's form: refused in one line ($errout)" \
    test "$rc" = 1 -a "$(grep -c "slice:prefix:name" <<<"$errout")" = 1 -a "$(wc -l <<<"$errout")" = 1
t_check "... and no state left" test ! -e "$state/ct/oci-$$-cg4"
b=$tmp/cg5
bundle "$b" '.process.args = ["true"] | .linux.cgroupsPath = "/../../etc"'
call create --bundle "$b" "oci-$$-cg5"
t_check "cgroupsPath with '..': refused ($errout)" test "$rc" = 1 -a -n "$(grep "not a clean path" <<<"$errout")"

# ---- --preserve-fds N: fds 3..3+N-1 by number into the process (runc) ----
b=$tmp/pf1
bundle "$b" '.process.args = ["sh", "-c", "echo via-fd5 >&5; for f in 3 4 5 6; do [ -e /proc/self/fd/$f ] && echo has$f; done; true"]'
R run --preserve-fds 3 --bundle "$b" "oci-$$-pf1" 3</dev/null 4</dev/null 5>"$tmp/pfd" 6</dev/null >"$tmp/out" 2>"$tmp/err"
t_eq "--preserve-fds 3: fd 5 written by the container" "via-fd5" "$(cat "$tmp/pfd")"
t_eq "--preserve-fds 3: fds 3-5 open in it, fd 6 not" "has3 has4 has5" "$(echo $(cat "$tmp/out"))"
R run --bundle "$b" "oci-$$-pf2" 3</dev/null 4</dev/null 5>"$tmp/pfd2" >"$tmp/out" 2>"$tmp/err"
t_eq "without --preserve-fds none of them" "" "$(echo $(cat "$tmp/out"))"
R create --preserve-fds 2 --bundle "$b" "oci-$$-pf3" 3</dev/null 4<&- >"$tmp/out" 2>"$tmp/err"
rc=$?
t_eq "--preserve-fds 2 with fd 4 closed: one line" "1 cloudlet-runtime: --preserve-fds 2: fd 4 is not open" "$rc $(cat "$tmp/err")"
t_check "... and no state left" test ! -e "$state/ct/oci-$$-pf3"

# ---- bad input ----
call state nosuch-$$
t_eq "unknown id: runc-style line, exit 1" "1 cloudlet-runtime: container nosuch-$$ does not exist" "$rc $errout"
R --log-format json --log "$tmp/log.json" kill nosuch-$$ 2>"$tmp/err"
rc=$?
t_eq "--log-format json: the error as JSON on stderr" "1 error container nosuch-$$ does not exist" \
    "$rc $(jq -r '[.level, .msg] | join(" ")' "$tmp/err" 2>/dev/null)"
t_eq "--log: the same object appended" "container nosuch-$$ does not exist" "$(jq -r .msg "$tmp/log.json" 2>/dev/null)"
mkdir -p "$tmp/empty"
call create --bundle "$tmp/empty" "oci-$$-empty"
t_check "a bundle without config.json: $errout" test "$rc" = 1 -a -n "$(grep 'no config.json' <<<"$errout")"
b=$tmp/b6
bundle "$b" '.ociVersion = "2.0.0"'
call create --bundle "$b" "oci-$$-v2"
t_check "an unsupported ociVersion: $errout" test "$rc" = 1 -a -n "$(grep "unsupported ociVersion '2.0.0'" <<<"$errout")"
call --systemd-cgroup list
t_check "--systemd-cgroup is refused clearly" test "$rc" = 1 -a -n "$(grep 'systemd' <<<"$errout")"
call create --bundle "$tmp/b1" "bad/id"
t_check "an id with '/' is refused" test "$rc" != 0
b=$tmp/b7
bundle "$b" '.process.args = ["/no/such/binary"]'
call run --bundle "$b" "oci-$$-noexec"
t_check "a missing executable: exit 127 and its name on stderr ($rc)" test "$rc" = 127 -a -n "$(grep /no/such/binary <<<"$errout")"
call bogus-verb
t_check "an unknown command: usage error (exit 2)" test "$rc" = 2

# ---- concurrent calls on different ids ----
b=$tmp/b8
bundle "$b" '.process.args = ["sleep", "100"]'
ids=$(for i in 1 2 3 4 5 6; do echo "oci-$$-c$i"; done)
for id in $ids; do R create --bundle "$b" "$id" & done; wait
for id in $ids; do R start "$id" & done; wait
n=0; for id in $ids; do [ "$(status_of "$id")" = running ] && n=$((n + 1)); done
t_eq "6 concurrent creates and starts: all running" "6" "$n"
for id in $ids; do R delete --force "$id" & done; wait
t_eq "6 concurrent delete --force: none left" "" "$(R list -q | grep "oci-$$-c")"

# ---- spec and features ----
t_eq "features: the versions" "1.0.0 1.1.0" "$(R features | jq -r '[.ociVersionMin, .ociVersionMax] | join(" ")')"
mkdir -p "$tmp/sp" && (cd "$tmp/sp" && "$rt" spec) && t_eq "spec: a config.json" "1.1.0 rootfs" \
    "$(jq -r '[.ociVersion, .root.path] | join(" ")' "$tmp/sp/config.json")"

# ---- nothing left ----
snapshot >"$tmp/after"
# (only what appeared: other suites' namespaces may come and go meanwhile)
diff "$tmp/before" "$tmp/after" | grep '^>' >"$tmp/left"
t_check "nothing left behind (mounts, cgroups, state, processes): $(cat "$tmp/left")" test ! -s "$tmp/left"
t_end
