# tests/lib.sh — sourced by shell test suites. Each check prints one line:
#   PASS: name | FAIL: name: why | SKIP: name: why
# and t_end exits 0 (all passed or skipped), 1 (a failure) or 77 (all skipped).
# tests/run adds the lines of every suite into one summary.
t_npass=0 t_nfail=0 t_nskip=0
t_pass() { echo "PASS: $1"; t_npass=$((t_npass + 1)); }
t_fail() { echo "FAIL: $1${2:+: $2}"; t_nfail=$((t_nfail + 1)); }
t_skip() { echo "SKIP: $1${2:+: $2}"; t_nskip=$((t_nskip + 1)); }
# t_check NAME CMD...: pass when CMD succeeds
t_check() { local n=$1; shift; if "$@"; then t_pass "$n"; else t_fail "$n" "'$*' failed"; fi; }
# t_eq NAME EXPECTED ACTUAL
t_eq() { if [ "$2" = "$3" ]; then t_pass "$1"; else t_fail "$1" "expected '$2', got '$3'"; fi; }
# t_bad NAME PATTERN CMD...: CMD fails with status 1 and one line matching
# PATTERN (extended regex): the project's rule for bad input
t_bad() {
    local n=$1 pat=$2; shift 2
    local out; out=$("$@" 2>&1); local r=$?
    if [ $r = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && grep -qE -- "$pat" <<<"$out"; then
        t_pass "bad input: $n"
    else
        t_fail "bad input: $n" "exit $r: $out"
    fi
}
t_end() {
    echo "suite: $t_npass passed, $t_nfail failed, $t_nskip skipped"
    [ "$t_nfail" = 0 ] || exit 1
    [ "$t_npass" != 0 ] || [ "$t_nskip" = 0 ] || exit 77
    exit 0
}
