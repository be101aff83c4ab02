# cli_checks.sh - the check helpers of the command-line test scripts (sourced; they set
# $ftrun first). One line per check: PASS, FAIL (with the tail of the run's stderr) or SKIP.

npass=0 nfail=0 nskip=0
pass() { echo "PASS $1"; npass=$((npass + 1)); }
fail() {
	echo "FAIL $1${2:+: $2}"
	nfail=$((nfail + 1))
	# the stderr of the run the check is about, when there is one
	if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | tail -5; fi
}
skip() { echo "SKIP $1: $2"; nskip=$((nskip + 1)); }

# ft NAME ARGS...: runs ftrun ARGS, stdout in NAME.out, stderr in NAME.err, exit code in $rc
ft() {
	local name=$1
	shift
	"$ftrun" "$@" >"$name.out" 2>"$name.err"
	rc=$?
}
# expect_rc CHECK NAME WANT: the last ft NAME exited WANT
expect_rc() {
	if [ "$rc" = "$3" ]; then pass "$1 (exit $3)"; else fail "$1" "exit $rc, want $3" "$2.err"; fi
}
# expect_grep CHECK FILE ERE: FILE has a line matching ERE
expect_grep() {
	if grep -Eq -- "$3" "$2" 2>/dev/null; then pass "$1"; else fail "$1" "no line matching /$3/ in $2" "$2"; fi
}
