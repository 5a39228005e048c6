#!/usr/bin/env bash
# End-to-end tests of `cloudlet fn` with container instances (natively, as
# root): deploy checks, the gateway on loopback (cold then warm on the same
# instance, 502/504/404/405/413/429, timing headers, /metrics), 200
# invocations at concurrency 10, an instance killed from outside, a server
# killed and restarted, idle reaping, and nothing left behind. Everything
# lives under a private state root, in VPCs made here, on 127.0.0.1.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images/oci
st=$(mktemp -d "${TMPDIR:-/tmp}/cloudlet-fn-test.XXXXXX")
C=("$cl" --root "$st")
port=$((20000 + $$ % 20000))
url=http://127.0.0.1:$port
srv= mqd= trg=()
stop_server() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; srv=; }
cleanup() {
    stop_server
    for p in "${trg[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$mqd" ] && kill "$mqd" 2>/dev/null
    for c in $("${C[@]}" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
    for v in $("${C[@]}" vpc ls 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" vpc rm --force "$v" >/dev/null 2>&1; done
    rm -rf "$st"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { t_skip "fn" "needs root"; t_end; }
[ -e "$img/index.json" ] || { t_fail "fn: $img" "missing (run: make images)"; t_end; }
command -v curl >/dev/null || { t_skip "fn" "curl is not installed"; t_end; }
if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    modprobe br_netfilter 2>/dev/null
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
        { t_skip "fn" "no br_netfilter (security groups need it)"; t_end; }
fi

start_server() {
    "${C[@]}" fn serve --listen "127.0.0.1:$port" >"$st/serve.log" 2>&1 &
    srv=$!
    for _ in $(seq 300); do curl -s -o /dev/null "$url/metrics" && return 0; sleep 0.1; done
    return 1
}
# post NAME DATA: prints "HTTP INSTANCE SERVED" on the first line, then the body
post() {
    local h; h=$(mktemp "$st/h.XXXXXX")
    local body; body=$(curl -s -D "$h" -X POST --data-binary "$2" "$url/fn/$1")
    local code inst served
    code=$(awk 'NR==1{print $2}' "$h")
    inst=$(awk -F': ' 'tolower($1)=="x-fn-instance"{print $2}' "$h" | tr -d '\r')
    served=$(awk -F': ' 'tolower($1)=="x-fn-served"{print $2}' "$h" | tr -d '\r')
    rm -f "$h"
    printf '%s %s %s\n%s\n' "$code" "${inst:--}" "${served:--}" "$body"
}
leftovers() { # what instances could leave: containers, attachments, leases, veths, cgroups, mounts
    "${C[@]}" ct ps | awk 'NR>1'
    "${C[@]}" vpc show "$1" | awk '$1 == "ct" || $1 == "vm"'
    cat "$st"/leases/"$1"/*.json 2>/dev/null | grep '"ip"'
    local ns; ns=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/$1.json")
    ip -n "$ns" -o link show 2>/dev/null | grep -o 'clvh-[^:@]*'
    # cloudlet/NAME, or cloudlet-HASH/NAME for a state root of its own
    find /sys/fs/cgroup -type d -path '*/cloudlet*/fn-*' 2>/dev/null
    grep -F "$st" /proc/self/mountinfo
}

t_check "vpc create" "${C[@]}" vpc create fv --cidr 10.91.0.0/16
t_check "subnet create" "${C[@]}" vpc subnet create fv/a --cidr 10.91.1.0/24
t_check "second vpc" "${C[@]}" vpc create fw --cidr 10.91.0.0/16
t_check "its subnet" "${C[@]}" vpc subnet create fw/a --cidr 10.91.1.0/24

# ---- deploy and bad input ----
bad() { t_bad "$1" "$2" "${C[@]}" "${@:3}"; }   # NAME PATTERN ARGS...
bad "handler missing from the image" "has no executable nosuch" fn deploy f1 --image "$img" --handler 'nosuch -x' --net fv/a
bad "image that does not exist" "/nonexistent" fn deploy f1 --image /nonexistent --handler cat --net fv/a
bad "min-warm over concurrency" "min-warm 5 exceeds concurrency 2" fn deploy f1 --image "$img" --handler cat --net fv/a --concurrency 2 --min-warm 5
bad "concurrency 0" "concurrency 0" fn deploy f1 --image "$img" --handler cat --net fv/a --concurrency 0
bad "memory too small" "memory" fn deploy f1 --image "$img" --handler cat --net fv/a --memory 1M
bad "unknown subnet" "fv/nosuch: no such subnet" fn deploy f1 --image "$img" --handler cat --net fv/nosuch
bad "unknown security group" "no such group" fn deploy f1 --image "$img" --handler cat --net fv/a --sg nosuch
bad "unknown function" "no such function" fn show nosuch
t_eq "failed deployments left no record" "" "$(ls "$st/fn" 2>/dev/null | grep json)"

t_check "deploy echo" "${C[@]}" fn deploy echo --image "$img" --handler 'cat; echo " from $FN_WHO"' --net fv/a \
    -e FN_WHO=echo --idle-ttl 3s --concurrency 10
t_check "deploy fail (exit 3 with stderr)" "${C[@]}" fn deploy fail --image "$img" --net fv/a \
    --handler 'echo some detail >&2; echo boom >&2; exit 3'
t_check "deploy slow (sleep from the event, timeout 5s)" "${C[@]}" fn deploy slow --image "$img" --net fv/a \
    --handler 'read s; sleep $s; echo slept $s' --timeout 5s --concurrency 1 --queue 1
t_check "deploy in the other VPC" "${C[@]}" fn deploy other --image "$img" --net fw/a \
    --handler 'read ip; nc -w 2 $ip 7070 </dev/null >/dev/null && echo reached || echo unreachable'
t_check "deploy load (idle-ttl 60s, concurrency 10)" "${C[@]}" fn deploy load --image "$img" --net fv/a \
    --handler 'cat' --idle-ttl 60s --concurrency 10
bad "deploy twice" "function echo exists" fn deploy echo --image "$img" --handler cat --net fv/a
out=$("${C[@]}" fn ls)
grep -q "^echo .*ct .*fv/a" <<<"$out" && grep -q "^slow " <<<"$out" && t_pass "fn ls" || t_fail "fn ls" "$out"
grep -q '"handler"' "$st/fn/echo.json" && t_pass "deployments are records under ROOT/fn" || t_fail "record"

# ---- fn invoke: an instance of its own, started and stopped ----
out=$("${C[@]}" fn invoke echo --data hi 2>&1)
grep -q "^hi from echo" <<<"$out" && grep -q "cold ok" <<<"$out" && t_pass "fn invoke: cold, handler output" \
    || t_fail "fn invoke" "$out"
t_eq "fn invoke left no instance" "" "$(leftovers fv)"

# ---- the gateway ----
if start_server; then t_pass "fn serve listens on 127.0.0.1:$port"; else t_fail "fn serve" "$(cat "$st/serve.log")"; t_end; fi
r1=$(post echo one) r2=$(post echo two)
read -r c1 i1 s1 <<<"$(head -1 <<<"$r1")"
read -r c2 i2 s2 <<<"$(head -1 <<<"$r2")"
t_eq "first call: 200, cold" "200 cold" "$c1 $s1"
t_eq "its body is the handler's stdout" "one from echo" "$(sed -n 2p <<<"$r1")"
t_eq "second call: 200, warm" "200 warm" "$c2 $s2"
t_eq "second call on the same instance" "$i1" "$i2"
out=$("${C[@]}" fn invoke echo --data viacli 2>&1)
grep -q "^viacli from echo" <<<"$out" && grep -q "fn invoke: warm ok" <<<"$out" \
    && t_pass "fn invoke goes through the running gateway (warm instance)" || t_fail "fn invoke via gateway" "$out"
bad "fn invoke of an unknown function (through the gateway)" "no such function" fn invoke nosuch
h=$(curl -s -D - -o /dev/null -X POST --data x "$url/fn/echo")
grep -qiE '^server-timing: queue;dur=[0-9.]+, create;dur=[0-9.]+, start;dur=[0-9.]+, handler;dur=[0-9.]+, total;dur=[0-9.]+' <<<"$h" \
    && t_pass "timing headers (Server-Timing: queue, create, start, handler, total)" || t_fail "timing headers" "$h"
out=$(curl -s -w '\n%{http_code}' -X POST --data x "$url/fn/fail")
grep -q "exit status 3" <<<"$out" && grep -q boom <<<"$out" && [ "$(tail -1 <<<"$out")" = 502 ] \
    && t_pass "a failing handler: 502 with its exit status and stderr tail" || t_fail "502" "$out"
t_eq "unknown function: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/fn/nosuch")"
t_eq "GET on a function: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "$url/fn/echo")"
head -c $((7 << 20)) /dev/zero >"$st/big"
t_eq "a body over 6 MiB: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$st/big" "$url/fn/echo")"

# timeout: kills and replaces the instance
r=$(post slow 0); read -r c ia _ <<<"$(head -1 <<<"$r")"
t_eq "slow, 0 s: 200" 200 "$c"
r=$(post slow 10); read -r c ib _ <<<"$(head -1 <<<"$r")"
t_eq "slow, 10 s with a 5 s timeout: 504" 504 "$c"
r=$(post slow 0); read -r c ic s <<<"$(head -1 <<<"$r")"
[ "$c" = 200 ] && [ "$s" = cold ] && [ "$ic" != "$ia" ] && t_pass "after a timeout the next call gets a fresh instance" \
    || t_fail "after timeout" "$c $s $ic (was $ia)"
# queue: concurrency 1, queue 1 -> one served, one waiting, one refused
for k in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST --data 1 "$url/fn/slow" >"$st/q$k" &
    sleep 0.3
done
wait $(jobs -p | grep -v "^$srv$") 2>/dev/null
codes=$(cat "$st"/q1 "$st"/q2 "$st"/q3 | tr '\n' ' ')
t_eq "concurrency 1, queue 1: served, queued then served, refused" "200 200 429 " "$codes"

# load: 200 invocations, 10 at a time
seq 200 | xargs -P 10 -I{} sh -c "curl -s -D '$st/lh.{}' -X POST --data {} '$url/fn/load' >'$st/lb.{}'"
okn=0 insts=
for k in $(seq 200); do
    if [ "$(cat "$st/lb.$k")" = "$k" ] && grep -q '^HTTP/1.1 200' "$st/lh.$k"; then okn=$((okn + 1)); fi
    insts="$insts $(awk -F': ' 'tolower($1)=="x-fn-instance"{print $2}' "$st/lh.$k" | tr -d '\r')"
done
t_eq "200 invocations at concurrency 10: each answered once, with its own event" 200 "$okn"
ni=$(tr ' ' '\n' <<<"$insts" | sort -u | grep -c .)
[ "$ni" -ge 1 ] && [ "$ni" -le 10 ] && t_pass "instances used: $ni (<= concurrency 10)" || t_fail "instances" "$ni"
m=$(curl -s "$url/metrics")
grep -q 'cloudlet_fn_invocations_total{function="load",outcome="ok"} 200$' <<<"$m" &&
    grep -q 'cloudlet_fn_latency_seconds_bucket{function="load",served="warm",le="+Inf"}' <<<"$m" \
    && t_pass "/metrics: counts and latency histograms" || t_fail "/metrics" "$(grep echo <<<"$m" | head -5)"
out=$("${C[@]}" fn show load)
grep -qE "^fn-load-[0-9a-f]+ +(warm|busy) " <<<"$out" && grep -q "invocations: 200 " <<<"$out" \
    && t_pass "fn show: instances and invocations" || t_fail "fn show" "$out"

# VPC isolation: a function in fw cannot reach echo's instance in fv (same CIDR)
eip=$(awk '$1 == "ct" && $2 ~ /^fn-load-/ {print $4; exit}' < <("${C[@]}" vpc show fv))
r=$(post other "$eip")
t_eq "a function in another VPC cannot reach this one's instance ($eip)" unreachable "$(sed -n 2p <<<"$r")"

# killed from outside: the in-flight call fails with 502, the next is fresh
r=$(post slow 0); read -r _ ik _ <<<"$(head -1 <<<"$r")"
( post slow 2 >"$st/inflight" ) &
bg=$!
sleep 0.8
pid=$("${C[@]}" ct ps | awk -v n="$ik" '$1 == n {print $3}')
[ -n "$pid" ] && kill -9 "$pid"
wait $bg
t_eq "the in-flight invocation of a killed instance: 502" 502 "$(head -1 "$st/inflight" | cut -d' ' -f1)"
r=$(post slow 0); read -r c in s <<<"$(head -1 <<<"$r")"
[ "$c" = 200 ] && [ "$in" != "$ik" ] && t_pass "the next invocation gets a fresh instance" || t_fail "after kill" "$c $in"

# the server killed while instances are warm: the next one ends them
post echo warmup >/dev/null
kill -9 "$srv"; wait "$srv" 2>/dev/null; srv=
[ -n "$("${C[@]}" ct ps | awk 'NR>1')" ] && t_pass "instances outlive a killed server" || t_fail "instances outlive"
start_server || t_fail "server restart"
t_eq "a restarted server ended the instances left behind" "" "$("${C[@]}" ct ps | awk 'NR>1')"
r=$(post echo again); read -r c _ s <<<"$(head -1 <<<"$r")"
t_eq "deployments survive the restart (cold again)" "200 cold" "$c $s"

# idle reaping: echo's TTL is 3 s; slow's and fail's 60 s go with the server
sleep 5
out=$("${C[@]}" ct ps | awk 'NR>1 && $1 ~ /^fn-echo-/')
t_eq "after the idle TTL, echo's instances are gone" "" "$out"
stop_server
[ ! -e "$st/fn/gateway.json" ] && t_pass "a stopped server removed its address record" || t_fail "gateway.json left"
t_eq "server stopped: nothing left (containers, attachments, leases, veths, cgroups, mounts)" "" "$(leftovers fv)$(leftovers fw)"
t_check "fn rm" "${C[@]}" fn rm echo
bad "fn rm twice" "no such function" fn rm echo
[ ! -e "$st/fn/echo.json" ] && [ ! -e "$st/fn/echo" ] && t_pass "fn rm removed the record and its directory" || t_fail "fn rm"
"${C[@]}" fn logs fail | grep -q "exit status\|handler-failed" && t_pass "fn logs" || t_fail "fn logs" "$("${C[@]}" fn logs fail | tail -3)"

# ---- the MQTT trigger (a mosquitto broker of the test's own, on loopback) ----
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ] || ! command -v mosquitto_pub >/dev/null; then
    t_skip "fn trigger" "mosquitto or mosquitto-clients not installed (make deps)"
    t_end
fi
mport=$((port + 1))
printf 'listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mport" >"$st/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$st/mosquitto.conf" >"$st/mosquitto.log" 2>&1 &
mqd=$!
for _ in $(seq 50); do mosquitto_pub -p "$mport" -t probe -m x 2>/dev/null && break; sleep 0.1; done
t_check "deploy count" "${C[@]}" fn deploy count --image "$img" --net fv/a --handler cat --idle-ttl 60s --concurrency 2
t_check "deploy broken (exits 1)" "${C[@]}" fn deploy broken --image "$img" --net fv/a --handler 'cat >/dev/null; exit 1'
bad "trigger on an unknown function" "no such function" fn trigger nosuch --mqtt t --broker "127.0.0.1:$mport"
bad "trigger on a broker that is not there" "broker 127.0.0.1:1: " fn trigger count --mqtt t --broker 127.0.0.1:1
"${C[@]}" fn trigger count --mqtt "cnt/$$" --broker "127.0.0.1:$mport" >"$st/trg1.log" 2>&1 & trg+=($!)
"${C[@]}" fn trigger broken --mqtt "brk/$$" --broker "127.0.0.1:$mport" --attempts 3 --retry-delay 50ms \
    >"$st/trg2.log" 2>&1 & trg+=($!)
sleep 1
mosquitto_sub -p "$mport" -q 1 -C 1 -W 60 -t "brk/$$/dead-letter" >"$st/dlq" 2>&1 &
dsub=$!
sleep 0.5
for k in $(seq 20); do mosquitto_pub -p "$mport" -q 1 -t "cnt/$$" -m "message $k"; done
mosquitto_pub -p "$mport" -q 1 -t "brk/$$" -m "poison $$"
n=0
for _ in $(seq 300); do
    n=$(grep -c ' invoke fn-count-[0-9a-f]* [a-z]* ok ' "$st/fn/count/log" 2>/dev/null)
    [ "$n" -ge 20 ] && break
    sleep 0.2
done
sleep 1
n=$(grep -c ' invoke fn-count-[0-9a-f]* [a-z]* ok ' "$st/fn/count/log" 2>/dev/null)
t_eq "20 MQTT messages -> 20 invocations" 20 "$n"
wait "$dsub"
t_eq "the failing handler's message lands on the dead-letter topic" "poison $$" "$(cat "$st/dlq")"
t_eq "after 3 attempts" 3 "$(grep -c ' invoke .* handler-failed status=1 ' "$st/fn/broken/log")"
for p in "${trg[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
trg=()
t_eq "triggers stopped: nothing left" "" "$(leftovers fv)"
t_end
