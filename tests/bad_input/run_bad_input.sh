#!/usr/bin/env bash
# run_bad_input.sh FTRUN PYTHON GEN_SCRIPT OUT_DIR [NAME_FILTER]
#
# Makes the hostile models (gen_bad_models.py) into OUT_DIR, then runs ftrun on
# each case of OUT_DIR/cases.tsv and checks that it exits with the expected
# code (2 for every bad input), that stderr holds every expected key word ("-"
# stands for none), and that no sanitizer spoke (under ASan a crash, a leak or
# UB changes the exit code and prints a report). Prints PASS/FAIL per case and exits 1 if any failed.
set -u
ftrun=$1
py=$2
gen=$3
out=$4
filter=${5:-}

rm -rf "$out"
mkdir -p "$out" || exit 1
"$py" "$gen" "$out" || { echo "generating the bad models failed"; exit 1; }

pass=0
fail=0
while IFS=$'\t' read -r -a f; do
	[ ${#f[@]} -ge 3 ] || continue
	name=${f[0]}
	want_rc=${f[1]}
	IFS='|' read -r -a keys <<<"${f[2]}"
	args=("${f[@]:3}")
	if [ -n "$filter" ] && [[ $name != *"$filter"* ]]; then
		continue
	fi
	if [ "$want_rc" = 0 ]; then # positive controls: the key words may be in the report on stdout
		err=$(timeout 120 "$ftrun" "${args[@]}" 2>&1)
	else
		err=$(timeout 120 "$ftrun" "${args[@]}" 2>&1 >/dev/null)
	fi
	rc=$?
	why=""
	if [ "$rc" != "$want_rc" ]; then
		why="exit code $rc, expected $want_rc"
	fi
	for k in "${keys[@]}"; do
		if [ "$k" != - ] && [[ $err != *"$k"* ]]; then
			why="${why:+$why; }stderr lacks \"$k\""
		fi
	done
	case $err in
	*Sanitizer* | *"runtime error:"* | *"assertion failed"* | *"out of memory"*)
		why="${why:+$why; }sanitizer report, assertion or fatal error" ;;
	esac
	if [ "$want_rc" != 0 ] && [ -z "$err" ]; then
		why="${why:+$why; }no message"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "PASS $name: $(printf '%s' "$err" | head -c 300 | tr '\n' ' ')"
	else
		fail=$((fail + 1))
		echo "FAIL $name: $why"
		echo "     ftrun ${args[*]}"
		printf '%s\n' "$err" | head -n 30 | sed 's/^/     | /'
	fi
done <"$out/cases.tsv"

echo "bad_input: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
