#!/usr/bin/env bash
# The cloudlet binary as a user meets it: help at every level, and bad input
# answered by one line on stderr and exit status 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
cl=${CLOUDLET:-build/cloudlet}
[ -x "$cl" ] || { t_fail binary "$cl missing (run: make)"; t_end; }

out=$("$cl" --help); t_eq "top help exits 0" 0 $?
for g in vm ct vpc host controller fn bench; do
    grep -q "^  $g " <<<"$out" || t_fail "top help lists $g"
    gh=$("$cl" "$g" --help) && grep -q "^usage: cloudlet $g COMMAND" <<<"$gh" \
        && t_pass "$g --help" || t_fail "$g --help"
    # every command of the group has its own help
    while IFS= read -r cmdline; do
        # "  sg rule add VPC/SG     summary": the lower-case words before the synopsis
        words=$(awk -F'  +' '{ n = split($2, w, " "); s = "";
            for (i = 1; i <= n && w[i] ~ /^[a-z-]+$/; i++) s = s (s ? " " : "") w[i]; print s }' <<<"$cmdline")
        # shellcheck disable=SC2086
        "$cl" $g $words --help | grep -q "^usage: cloudlet $g $words " \
            || t_fail "$g $words --help"
    done < <(sed -n '/^Commands:/,/^$/p' <<<"$gh" | grep '^  [a-z]')
done
t_pass "every command has --help"
# a group that is one command
grep -q "^  agent " <<<"$out" && "$cl" agent --help | grep -q "^usage: cloudlet agent \[OPTIONS\]" &&
    t_pass "agent --help" || t_fail "agent --help"

check_err() {   # NAME EXPECTED-RC STDERR-PATTERN ARGS...
    local name=$1 want=$2 pat=$3; shift 3
    local err rc
    err=$("$cl" "$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" != "$want" ]; then t_fail "$name" "exit $rc, want $want"; return; fi
    if [ "$(wc -l <<<"$err")" != 1 ]; then t_fail "$name" "stderr is not one line: $err"; return; fi
    if ! grep -qE -- "$pat" <<<"$err"; then t_fail "$name" "stderr '$err' !~ /$pat/"; return; fi
    t_pass "$name"
}
check_err "unknown command" 2 "^cloudlet: unknown command 'nope' \(try 'cloudlet --help'\)$" nope
check_err "unknown subcommand" 2 "^cloudlet: vpc: unknown command 'fly'" vpc fly
check_err "unknown option" 2 "unknown option '--frob' \(try 'cloudlet vm run --help'\)" vm run --kernel k --frob
check_err "missing required option" 2 "missing option --kernel" vm run
check_err "bad size" 2 "--mem: 'huge' is not a size" vm run -k k --mem huge
check_err "no command" 2 "missing command" 

v=$("$cl" --version) && [[ "$v" == cloudlet\ * ]] && t_pass "--version" || t_fail "--version"
t_end
