#!/usr/bin/env bash
# `cloudlet ct`: containers end to end, natively, as root, on the workload
# image (build/images/oci; /init contract in images/README.md). Isolation,
# limits, security defaults, exit statuses, signals, lifecycle, bad input,
# and at the end: no mount, cgroup, state or network namespace left.
#
# The seccomp check uses `unshare -U` (unshare(2) with CLONE_NEWUSER):
# creating a user namespace needs no capability, so with the default caps
# only the seccomp profile stands between it and success (Docker blocks
# unshare for the same reason: it opens a large kernel surface). swapon or
# mount would fail with EPERM even unconfined (no CAP_SYS_ADMIN), proving
# nothing about the profile.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images/oci
rootfs=$root/build/images/rootfs
if [ "$(id -u)" != 0 ]; then
    t_skip "ct" "needs root (namespaces, cgroups, overlayfs)"
    t_end
fi
for f in "$cl" "$img/index.json" "$rootfs/init"; do
    [ -e "$f" ] || { t_fail "ct: $f" "missing (run: make all images)"; t_end; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-ct.XXXXXX")
state=$tmp/state
trap 'for n in $(ls "$state/ct" 2>/dev/null); do "$cl" --root "$state" ct rm -f "$n" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT

ct() { "$cl" --root "$state" ct "$@"; }
# run: ct run ARGS... with stdin from /dev/null; $out, $errout, $rc
run() { ct run "$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?; out=$(cat "$tmp/out"); errout=$(cat "$tmp/err"); }
has() { grep -q -- "$1" <<<"$out"; }

# what a container could leave behind on the host
snapshot() {
    echo "# mounts"; awk '{print $5}' /proc/self/mountinfo | sort
    # containers of this state root are under cloudlet-<hash of the root>/
    echo "# cgroups"; find /sys/fs/cgroup -type d -path '*/cloudlet*' ! -path '*/cloudlet-vm*' 2>/dev/null | sort
    echo "# netns"; ls /run/netns 2>/dev/null; readlink /proc/[0-9]*/ns/net 2>/dev/null | sort -u
    echo "# state"; ls -A "$state/ct" 2>/dev/null | grep -vx .lock
    echo "# processes"; pgrep -x cloudlet-init
}
ct run "$img" </dev/null >/dev/null 2>&1   # unpack the image into the store once
snapshot >"$tmp/before"

# ---- it runs, isolated ----
run "$img"
t_check "runs the image's default Cmd (exit), ready line" test "$rc" = 0 -a -n "$(has 'cloudlet-ready kind=ct uptime=' && echo y)"

run "$img" run sh -c 'cat /proc/1/comm; echo ppid=$PPID; ls /proc | grep -c "^[0-9]"'
t_eq "PID 1 is the runtime's init" "cloudlet-init" "$(sed -n 2p <<<"$out")"
t_eq "the workload is PID 2" "ppid=2" "$(sed -n 3p <<<"$out")"
n=$(sed -n 4p <<<"$out")
t_check "own pid namespace: only the container's processes ($n)" test "${n:-99}" -le 6

run --hostname box "$img" run hostname
t_eq "--hostname" "box" "$(sed -n 2p <<<"$out")"
run --name named-ct "$img" run hostname
t_eq "hostname defaults to the name" "named-ct" "$(sed -n 2p <<<"$out")"

run "$img" run sh -c 'cut -d" " -f5 /proc/self/mountinfo | sort | tr "\n" " "; echo; ls /work 2>&1'
mnts=$(sed -n 2p <<<"$out")
bad=$(tr ' ' '\n' <<<"$mnts" | grep -v -e '^$' -e '^/$' -e '^/proc' -e '^/dev' -e '^/sys' | tr '\n' ' ')
t_eq "no host mounts in the container" "" "$bad"
t_check "the host's tree is not reachable" grep -q "No such file" <<<"$out"

run "$img" run sh -c 'awk "\$5 == \"/sys\" {print \$6}" /proc/self/mountinfo; touch /sys/x 2>&1; (echo x >/proc/sys/kernel/hostname) 2>&1; cat /proc/keys | wc -c; ls /sys/firmware | wc -l'
t_check "/sys is read-only" grep -q '^ro,' <<<"$(sed -n 2p <<<"$out")"
t_check "/sys and /proc/sys refuse writes" test "$(grep -c 'Read-only file system' <<<"$out")" = 2
t_eq "/proc/keys and /sys/firmware masked" "0 0" "$(sed -n 5p <<<"$out") $(sed -n 6p <<<"$out")"

run "$img" run sh -c 'ls /dev | tr "\n" " "; echo; readlink /dev/ptmx; readlink /dev/fd; ip -o link show lo | grep -c UP'
for d in null zero full random urandom tty pts shm mqueue stdin stdout stderr; do
    grep -qw "$d" <<<"$(sed -n 2p <<<"$out")" || t_fail "/dev/$d" "missing: $(sed -n 2p <<<"$out")"
done
t_eq "/dev: default devices and links" "pts/ptmx /proc/self/fd 1" "$(sed -n 3,5p <<<"$out" | tr '\n' ' ' | sed 's/ $//')"

# ---- security defaults ----
run "$img" run grep -e CapEff -e CapBnd -e CapPrm -e NoNewPrivs -e Seccomp: /proc/self/status
t_eq "CapEff is Docker's default set" "00000000a80425fb" "$(awk '/CapEff/{print $2}' <<<"$out")"
t_eq "CapBnd is Docker's default set" "00000000a80425fb" "$(awk '/CapBnd/{print $2}' <<<"$out")"
t_eq "no_new_privs, seccomp filter" "1 2" "$(awk '/NoNewPrivs/{print $2}' <<<"$out") $(awk '/^Seccomp:/{print $2}' <<<"$out")"

run "$img" run unshare -U true
t_check "seccomp default: unshare fails with EPERM" test "$rc" = 1 -a -n "$(grep -l 'Operation not permitted' "$tmp/err")"
# (a chroot, as in the emulated KVM host, may not create user namespaces:
# nor may the containers made inside it)
userns_ok=false
unshare -U true 2>/dev/null && userns_ok=true
if $userns_ok; then
    run --seccomp=unconfined "$img" run unshare -U true
    t_check "--seccomp=unconfined: unshare succeeds" test "$rc" = 0
else
    t_skip "--seccomp=unconfined: unshare" "this host may not create user namespaces (chroot?)"
fi
run --seccomp=unconfined "$img" run grep Seccomp: /proc/self/status
t_eq "--seccomp=unconfined: no filter" "0" "$(awk '/^Seccomp:/{print $2}' <<<"$out")"

# ---- limits ----
# a string doubled up to 256 MiB (awk keeps it, and its copies, in memory)
hog='awk "BEGIN { s = \"x\"; while (length(s) < 150000000) s = s s }"'
run --memory 32M "$img" run sh -c "$hog"
t_eq "--memory 32M: a 256 MiB hog is killed (SIGKILL)" "137" "$rc"
run "$img" run sh -c "$hog"
t_eq "the same hog without --memory lives" "0" "$rc"

forks='i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done'
run --pids 20 "$img" run sh -c "$forks"
t_check "--pids 20: a fork loop stops (can't fork)" test "$rc" != 0 -a -n "$(grep -l "can't fork" "$tmp/err")"
run "$img" run sh -c "$forks"
t_eq "the same loop without --pids" "0" "$rc"

if ct run -d --name cpu-t --cpus 0.5 --memory 48M --pids 64 "$img" run sleep 30 </dev/null >/dev/null 2>"$tmp/err"; then
    # the container's cgroup, as its init sees it (v1: a line per hierarchy)
    pid=$(ct ps | awk '$1 == "cpu-t" { print $3 }')
    cgof() { awk -F: -v c="$1" '(c == "" && $2 == "") || (c != "" && $2 ~ "(^|,)" c "(,|$)") { print $3; exit }' /proc/"$pid"/cgroup; }
    mnt() { awk -v c="$1" '($9 == "cgroup" && $NF ~ "(^|,)" c "(,|$)") || ($9 == "cgroup2" && c == "") { print $5; exit }' /proc/self/mountinfo; }
    if [ -n "$(cgof cpu)" ]; then   # v1
        cpu=$(mnt cpu)$(cgof cpu) mem=$(mnt memory)$(cgof memory) pids=$(mnt pids)$(cgof pids)
        got="$(cat "$cpu/cpu.cfs_quota_us") $(cat "$cpu/cpu.cfs_period_us")"
        got="$got $(cat "$mem/memory.limit_in_bytes") $(cat "$pids/pids.max")"
    else
        cg=$(mnt "")$(cgof "")
        got="$(cat "$cg/cpu.max") $(cat "$cg/memory.max") $(cat "$cg/pids.max")"
    fi
    t_check "the cgroup is named for this state root (${cg:-$cpu})" grep -Eq '/cloudlet-[0-9a-f]{8}/cpu-t$' <<<"${cg:-$cpu}"
    t_check "--cpus 0.5 --memory 48M --pids 64 in the cgroup ($got)" grep -Eq '^50000 100000 50331648 64$' <<<"$got"
    ct stop --time 1s cpu-t >/dev/null 2>&1
    ct rm cpu-t >/dev/null 2>&1
else
    t_fail "cgroup values" "$(cat "$tmp/err")"
fi

# ---- exit statuses ----
run "$img" run sh -c 'exit 3'
t_eq "exit status 3 propagates" "3" "$rc"
run "$img" exit
t_eq "exit status 0" "0" "$rc"
run "$img" run no-such-command
t_eq "a CMD the shell cannot find: 127" "127" "$rc"
run "$rootfs" /no/such/file
t_check "an entrypoint that does not exist: 127, one line" test "$rc" = 127 -a "$(wc -l <"$tmp/err")" = 1
t_check "  ... naming it" grep -q "/no/such/file: no such file in the container" "$tmp/err"
run "$rootfs" no-such-program
t_check "not in the container's PATH: 127" grep -q "no-such-program: executable file not found" "$tmp/err"
run "$rootfs" /etc/passwd
t_eq "not executable: 126" "126" "$rc"

# ---- signals, reaping, terminal ----
"$cl" --root "$state" ct run "$img" serve </dev/null >"$tmp/serve.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q cloudlet-serving "$tmp/serve.out" && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
t_eq "SIGTERM reaches the container's init (serve exits 0)" "0" "$rc"
"$cl" --root "$state" ct run "$img" run sleep 60 </dev/null >"$tmp/sleep.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q cloudlet-ready "$tmp/sleep.out" && break; sleep 0.1; done
sleep 0.2
kill -INT $pid; wait $pid; rc=$?
t_eq "SIGINT is forwarded (130)" "130" "$rc"

run "$img" run sh -c '(sleep 0.2 &); (sleep 0.2 &); sleep 1; cat /proc/[0-9]*/stat | grep -c " Z "'
t_eq "orphans are reaped (no zombies)" "0" "$(sed -n 2p <<<"$out")"

if command -v script >/dev/null; then
    script -qec "$cl --root $state ct run -t $img run sh -c 'tty; echo \$TERM; exit 5'" /dev/null </dev/null >"$tmp/tty.out" 2>&1
    rc=$?
    t_check "-t: a pty, TERM, exit status ($rc)" test "$rc" = 5 -a -n "$(grep -l '^/dev/pts/0' "$tmp/tty.out")" -a -n "$(grep -l xterm "$tmp/tty.out")"
else
    t_skip "-t" "no script(1)"
fi

# ---- rootless ----
if $userns_ok; then
    run --rootless "$img" run sh -c 'id -u; cat /proc/self/uid_map'
    t_check "--rootless: a user namespace, container root = one host id" test "$rc" = 0 -a "$(sed -n 3p <<<"$out" | awk '{print $1, $3}')" = "0 1"
else
    t_skip "--rootless" "this host may not create user namespaces (chroot?)"
fi

# ---- lifecycle: detach, ps, stop, rm ----
name=$(ct run -d "$img" serve </dev/null 2>"$tmp/err")
t_check "run -d prints the generated name" grep -Eq '^ct-[0-9a-f]{8}$' <<<"$name"
ct run -d --name life "$img" serve </dev/null >/dev/null 2>&1
t_check "ps: running" grep -Eq '^life +running +[0-9]+' <<<"$(ct ps)"
ct rm life >/dev/null 2>"$tmp/err"
t_check "rm of a running container: refused" grep -q "is running" "$tmp/err"
ct run -d --name life "$img" serve </dev/null >/dev/null 2>"$tmp/err"
t_check "a name in use: refused" grep -q "already exists" "$tmp/err"
for _ in $(seq 50); do grep -q cloudlet-serving "$state/ct/life/log" 2>/dev/null && break; sleep 0.1; done
t_check "a detached container's output goes to its log" grep -q cloudlet-serving "$state/ct/life/log"
ct stop life
t_check "stop, then ps: exited(0)" grep -Eq '^life +exited\(0\)' <<<"$(ct ps)"
ct rm life
ct rm -f "$name" >/dev/null
t_eq "rm, rm -f: gone" "" "$(ct ps | tail -n +2)"
ct stop nope 2>"$tmp/err"
t_check "stop of an unknown container: one line" test "$(wc -l <"$tmp/err")" = 1

# concurrent launches: distinct names all start; one name, exactly one wins
for i in 1 2 3 4 5 6; do ct run -d "$img" run sleep 5 </dev/null >"$tmp/c$i" 2>&1 & done
for i in 1 2 3 4 5 6; do ct run -d --name same "$img" run sleep 5 </dev/null >"$tmp/s$i" 2>&1 & done
wait
t_eq "6 concurrent launches, 6 containers" "7" "$(ct ps | tail -n +2 | grep -c running)"
t_eq "6 concurrent launches of one name: one wins" "1" "$(cat "$tmp"/s? | grep -cx same)"
for n in $(ls "$state/ct"); do ct rm -f "$n"; done

# ---- bad input: one line, non-zero, nothing left behind ----
bad() {   # NAME PATTERN ARGS...
    local name=$1 pat=$2; shift 2
    ct run "$@" </dev/null >"$tmp/bad.out" 2>"$tmp/bad.err"
    local r=$?
    if [ "$r" != 0 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && grep -q -- "$pat" "$tmp/bad.err"; then
        t_pass "bad input: $name"
    else
        t_fail "bad input: $name" "exit $r: $(cat "$tmp/bad.err")"
    fi
}
bad "missing image" "No such file" /no/such/image
bad "unknown tag" "no manifest tagged nope" "$img:nope"
bad "--memory too small" "below the minimum of 6 MiB" --memory 1M "$img"
bad "--memory 0" "at least 6 MiB" --memory 0 "$img"
bad "--memory junk" "not a size" --memory lots "$img"
bad "--cpus junk" "not a number of CPUs" --cpus abc "$img"
bad "--cpus 0" "below the minimum" --cpus 0 "$img"
bad "--cpus beyond the host" "more than this host" --cpus 100000 "$img"
bad "--pids 0" "at least 2" --pids 0 "$img"
bad "--pids 1" "below the minimum of 2" --pids 1 "$img"
bad "--seccomp" "expected 'default' or 'unconfined'" --seccomp=strict "$img"
bad "--name" "container name" --name ../x "$img"
bad "--hostname" "hostname" --hostname 'a b' "$img"
bad "--env without =" "expected KEY=VALUE" --env FOO "$img"
bad "-t with -d" "cannot have a terminal" -t -d "$img"
# a failure half way through setup: /proc in the image is a symlink
cp -a "$rootfs" "$tmp/badroot" && rmdir "$tmp/badroot/proc" && ln -s /tmp "$tmp/badroot/proc"
bad "an image that redirects /proc" "/proc in the image is a symbolic link" "$tmp/badroot" /init

# ---- nothing left behind ----
snapshot >"$tmp/after"
if diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
    t_pass "nothing left: mounts, cgroups, netns, state, processes"
else
    t_fail "nothing left" "$(tr '\n' ' ' <"$tmp/diff")"
fi
t_end
