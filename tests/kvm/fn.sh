#!/usr/bin/env bash
# `cloudlet fn` with microVM instances (--kind vm): the same function as a
# container and as a microVM behind one gateway; first call cold, second
# warm on the same instance; a failing handler's 502; idle reaping leaves
# no VMM, tap, attachment or lease. Needs /dev/kvm: run through
# tests/kvmhost/run (the container flavour runs in the same host).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh

cl=${CLOUDLET:-$root/build/cloudlet}
img=$root/build/images
# state on a tmpfs: overlayfs cannot use a 9p upper layer
st=$(mktemp -d /run/cloudlet-fn-vm.XXXXXX 2>/dev/null || mktemp -d /tmp/cloudlet-fn-vm.XXXXXX)
C=("$cl" --root "$st")
port=$((20000 + $$ % 20000))
url=http://127.0.0.1:$port
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
    for c in $("${C[@]}" ct ps 2>/dev/null | awk 'NR>1{print $1}'); do "${C[@]}" ct rm -f "$c" >/dev/null 2>&1; done
    "${C[@]}" vpc rm --force v >/dev/null 2>&1
    rm -rf "$st"
}
trap cleanup EXIT
[ -e /dev/kvm ] || { t_skip "fn with VMs" "no /dev/kvm (run through tests/kvmhost/run)"; t_end; }
[ "$(id -u)" = 0 ] || { t_skip "fn with VMs" "needs root"; t_end; }
command -v curl >/dev/null || { t_skip "fn with VMs" "no curl"; t_end; }
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { t_skip "fn with VMs" "no br_netfilter"; t_end; }

post() { # NAME DATA: "HTTP INSTANCE SERVED" then the body
    local h; h=$(mktemp "$st/h.XXXXXX")
    local body; body=$(curl -s -D "$h" -X POST --data-binary "$2" "$url/fn/$1")
    printf '%s %s %s\n%s\n' "$(awk 'NR==1{print $2}' "$h")" \
        "$(awk -F': ' 'tolower($1)=="x-fn-instance"{print $2}' "$h" | tr -d '\r')" \
        "$(awk -F': ' 'tolower($1)=="x-fn-served"{print $2}' "$h" | tr -d '\r')" "$body"
    rm -f "$h"
}

t_check "vpc and subnet" bash -c "'$cl' --root '$st' vpc create v --cidr 10.93.0.0/16 && '$cl' --root '$st' vpc subnet create v/a --cidr 10.93.1.0/24"
out=$("${C[@]}" fn deploy bad --kind vm --image "$img" --handler 'nosuch' --net v/a 2>&1)
grep -q "has no executable nosuch" <<<"$out" && t_pass "vm: a handler the image lacks is refused" || t_fail "vm bad handler" "$out"
t_check "deploy hello as a microVM" "${C[@]}" fn deploy hello-vm --kind vm --image "$img" --net v/a \
    --handler 'cat; echo -n _from_; echo $FN_ENV' -e FN_ENV=vmenv --timeout 180s --idle-ttl 30s
t_check "deploy hello as a container" "${C[@]}" fn deploy hello-ct --kind ct --image "$img/oci" --net v/a \
    --handler 'cat; echo -n _from_; echo $FN_ENV' -e FN_ENV=ctenv --timeout 180s --idle-ttl 30s
t_check "deploy a failing microVM handler" "${C[@]}" fn deploy fail-vm --kind vm --image "$img" --net v/a \
    --handler 'echo vm-detail >&2; exit 4' --timeout 180s --idle-ttl 30s

${FN_SERVE_WRAP:-} "${C[@]}" fn serve --listen "127.0.0.1:$port" >"$st/serve.log" 2>&1 &
srv=$!
for _ in $(seq 100); do curl -s -o /dev/null "$url/metrics" && break; sleep 0.2; done
for kind in vm ct; do
    r1=$(post hello-$kind one) r2=$(post hello-$kind two)
    read -r c1 i1 s1 <<<"$(head -1 <<<"$r1")"
    read -r c2 i2 s2 <<<"$(head -1 <<<"$r2")"
    t_eq "$kind: first call 200 cold" "200 cold" "$c1 $s1"
    b=$(sed -n 2p <<<"$r1")
    [ "$b" = "one_from_${kind}env" ] && t_pass "$kind: the handler's stdout, in the instance, with its env" \
        || t_fail "$kind: body" "$b ($(tail -5 "$st/fn/hello-$kind/log" | tr '\n' ' '))"
    t_eq "$kind: second call 200 warm on the same instance" "200 warm $i1" "$c2 $s2 $i2"
    [ "$c2 $s2 $i2" = "200 warm $i1" ] || tail -12 "$st/fn/hello-$kind/log" | sed 's/^/    /'
    ip=$("${C[@]}" vpc show v | awk -v k="$kind" -v i="$i2" '$1 == k && $2 == i {print $4; exit}')
    [ -n "$ip" ] && t_pass "$kind: the instance is attached to the subnet ($ip)" || t_fail "$kind attachment"
done
out=$(curl -s -w '\n%{http_code}' -X POST --data x "$url/fn/fail-vm")
grep -q "exit status 4" <<<"$out" && grep -q vm-detail <<<"$out" && [ "$(tail -1 <<<"$out")" = 502 ] \
    && t_pass "vm: a failing handler: 502, its status and stderr" || t_fail "vm 502" "$out"
# the idle TTL (30 s): everything goes
for _ in $(seq 120); do
    [ -z "$("${C[@]}" vpc show v | awk '$1 == "vm" || $1 == "ct"')" ] && break
    sleep 1
done
ns=$(awk -F'"' '/"netns"/{print $4}' "$st/vpc/v.json")
left="$("${C[@]}" vpc show v | awk '$1 == "vm" || $1 == "ct"')$(cat "$st"/leases/v/*.json 2>/dev/null | grep '"ip"')"
left="$left$(ip -n "$ns" -o link show 2>/dev/null | grep -oE 'cl(vh|tp)-[^:@]*')$(pgrep -f -- "--root $st vm run" 2>/dev/null)"
t_eq "after the idle TTL: no VMM, container, tap, veth, attachment or lease" "" "$left"
kill "$srv"; wait "$srv" 2>/dev/null; srv=
[ -n "${FN_SERVE_WRAP:-}" ] && cat "$st/serve.log"
t_end
