#!/usr/bin/env bash
# `cloudlet bench ct-start` end to end with one run: every column present
# and sane (positive, finite), the JSON has the raw samples. No assertion on
# timing: that is what the benchmark itself reports. `bench vm-io`'s input
# checks (its run is in tests/kvm/vm.sh: it needs KVM).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/lib.sh
cl=${CLOUDLET:-$root/build/cloudlet}
tmp=$(mktemp -d /tmp/cloudlet-bench-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -d build/images/oci ] || { t_fail "bench: build/images/oci" "missing (run: make images)"; t_end; }

"$cl" bench ct-start --runs 1 --json "$tmp/ct.json" >"$tmp/out" 2>"$tmp/err"
r=$?
[ "$r" = 0 ] && t_pass "bench ct-start --runs 1 exits 0" || t_fail "bench ct-start" "exit $r: $(tail -2 "$tmp/err")"
row=$(grep '^cloudlet ' "$tmp/out")
if [[ $row =~ ^cloudlet\ +1\ +([0-9.]+)\ \(.*\)\ +([0-9.]+)\ \( ]] &&
   awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[2]}" 'BEGIN { exit !(a > 0 && b >= a) }'; then
    t_pass "table: cloudlet's ready and total times are positive, total >= ready"
else
    t_fail "table row" "'$row'"
fi
if command -v runc >/dev/null; then
    grep -qE '^runc +1 ' "$tmp/out" && grep -qE '^ratio .*\(cloudlet / runc, medians\)' "$tmp/out" \
        && t_pass "runc measured alongside, with a ratio" || t_fail "runc reference" "$(cat "$tmp/out")"
else
    t_skip "runc reference" "runc not installed"
fi
if jq -e '.benchmark == "ct-start" and .series[0].vmm == "cloudlet"
          and (.series[0].reset_ms.samples | length) == 1
          and (.series[0].reset_ms.samples[0] > 0) and (.environment.kernel | length > 0)' \
        "$tmp/ct.json" >/dev/null; then
    t_pass "JSON: raw samples and environment"
else
    t_fail "JSON" "$(head -c 300 "$tmp/ct.json")"
fi
"$cl" bench ct-start --runs 0 >/dev/null 2>"$tmp/err0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/err0" && t_pass "bad --runs: one line, exit 1" \
    || t_fail "bad --runs" "exit $r: $(cat "$tmp/err0")"
# vm-io judges its input before it makes anything (it needs KVM to run:
# tests/kvm/vm.sh runs it once)
"$cl" bench vm-io --runs 0 >/dev/null 2>"$tmp/err0"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/err0" && t_pass "vm-io: bad --runs: one line, exit 1" \
    || t_fail "vm-io: bad --runs" "exit $r: $(cat "$tmp/err0")"
"$cl" bench vm-io --clperf "$tmp/no-clperf" >/dev/null 2>"$tmp/err1"
r=$?
[ "$r" = 1 ] && grep -q "$tmp/no-clperf (run: make images): No such file" "$tmp/err1" \
    && t_pass "vm-io: a missing clperf is named, exit 1" || t_fail "vm-io: missing clperf" "exit $r: $(cat "$tmp/err1")"

# `bench all` without KVM where it is not needed: a VM run that fails (a
# kernel that is no kernel) is reported with its error while the container
# runs go on, and the exit at the end is 1; absent references are notes.
# Its full run is tests/kvm/bench-all.sh (it needs KVM).
"$cl" bench all --runs 1 --kernel /etc/hostname --no-reference --json "$tmp/all.json" \
    --plot "$tmp/all.svg" >"$tmp/all.out" 2>"$tmp/all.err"
r=$?
if [ "$r" = 1 ] && grep -qE '^  1 run\(s\) failed; first: vm cloudlet: .*/etc/hostname: not a bzImage' "$tmp/all.out" &&
   grep -qE '^ct cloudlet +1 +[0-9.]+ \(' "$tmp/all.out" && grep -q '^4\. isolation surface' "$tmp/all.out"; then
    t_pass "bench all: a failed VM run is reported, the containers still run, exit 1"
else
    t_fail "bench all: failed run" "exit $r: $(cat "$tmp/all.out" "$tmp/all.err" | head -30)"
fi
grep -q '^note: runc absent or disabled: skipped' "$tmp/all.out" && grep -q 'microVMs not measured' "$tmp/all.out" \
    && t_pass "bench all: skipped references are notes; no density from no sample" \
    || t_fail "bench all: notes" "$(grep -E '^(note|density)' "$tmp/all.out")"
jq -e '.failed == true and (.startup.series[0].error | test("^vm cloudlet: "))
       and .memory.series[1].runs == 1 and .memory.series[1].cost_mib.samples[0] > 0' "$tmp/all.json" >/dev/null \
    && t_pass "bench all: JSON records the failure and the container's samples" \
    || t_fail "bench all: JSON" "$(head -c 400 "$tmp/all.json")"
# the chart: well-formed XML (Python's parser), an <svg> root, a titled
# group per series that has samples (none for the failed VM)
if ! command -v python3 >/dev/null; then
    t_skip "bench all: SVG" "python3 not installed"
elif python3 - "$tmp/all.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
ids = {g.get("id") for g in root.iter(ns + "g") if g.get("class") == "series"}
assert ids == {"series-startup-ct-cloudlet", "series-memory-ct-cloudlet"}, sorted(ids)
assert all(g.find(ns + "title") is not None for g in root.iter(ns + "g"))
assert any(t.get("id") == "network-pending" for t in root.iter(ns + "text"))
EOF
then
    t_pass "bench all: the SVG is valid XML with the series that have samples"
else
    t_fail "bench all: SVG" "$(head -c 300 "$tmp/all.svg")"
fi
left=""
ls -d /run/cloudlet-bench-all.* >/dev/null 2>&1 && left+=" scratch dir"
# its containers' cgroups are cloudlet/cloudlet-bench-* (others' tests may run meanwhile)
[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'cloudlet-bench-*' 2>/dev/null)" ] || left+=" cgroups"
[ -z "$left" ] && t_pass "bench all: nothing left" || t_fail "bench all: leftovers" "$left"
"$cl" bench all --runs 0 >/dev/null 2>"$tmp/allerr"
r=$?
[ "$r" = 1 ] && grep -q 'runs 0 is out of range' "$tmp/allerr" && [ "$(wc -l <"$tmp/allerr")" = 1 ] \
    && t_pass "bench all: bad --runs: one line, exit 1" || t_fail "bench all: bad --runs" "exit $r: $(cat "$tmp/allerr")"
"$cl" bench all --image "$tmp/no-image" >/dev/null 2>"$tmp/allerr"
r=$?
[ "$r" = 1 ] && grep -q "image $tmp/no-image (run: make images): No such file" "$tmp/allerr" \
    && t_pass "bench all: unknown image named, exit 1" || t_fail "bench all: unknown image" "exit $r: $(cat "$tmp/allerr")"
t_end
