# Helpers for the command-line test scripts (sourced): $work, a scratch folder removed on
# exit; $fail, 0 until bad marks a failure; expect2 runs a command that must be refused as
# bad input: exit 2 and an "ftrun: " message.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
expect2() { # description, command...
	local what=$1
	shift
	"$@" >"$work/o" 2>&1
	local rc=$?
	if [ $rc != 2 ] || ! grep -q "ftrun: " "$work/o"; then
		bad "$what: exit $rc, expected 2 with a message"
		cat "$work/o"
	else
		echo "ok: $what: $(grep 'ftrun: ' "$work/o" | head -1)"
	fi
}
