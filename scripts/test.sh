#!/bin/sh
# test.sh - the README's second command, and what CI runs: install what is
# missing, then build and test every way Quill is checked:
#
#   1. source hygiene: clang-format and the banned-function list
#   2. gcc, -Werror: unit tests, corpus replays, end-to-end tests
#   3. the same unit tests and replays under valgrind memcheck
#   4. clang with ASan+UBSan, -Werror: unit, replay and end-to-end tests
#   5. clang with libFuzzer: every fuzz target for QUILL_FUZZ_SECONDS
#      (default 20) on its corpus
#
# Each step's CTest summary is printed; the last line adds them up as
# "N passed, N failed". Options: --quick (steps 1-2 only).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc 2>/dev/null || echo 2)
# only the sanitizer build reads these
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0
failed=0
log="$root/build/test-summary.txt"

"$root/scripts/install-deps.sh" --test || exit 1
mkdir -p "$root/build"
: >"$log"

# step NAME COMMAND...: a check that is one test of its own
step() {
	name=$1
	shift
	echo "== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "$name: passed" >>"$log"
	else
		failed=$((failed + 1))
		echo "$name: FAILED" >>"$log"
	fi
}

# suite NAME BUILD-DIR CTEST-ARGS...: add a CTest run's counts
suite() {
	name=$1 dir=$2
	shift 2
	echo "== $name"
	out="$root/build/ctest-$name.txt"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") >"$out" 2>&1
	cat "$out"
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no CTest summary (build or run failed)" >>"$log"
		failed=$((failed + 1))
		return
	fi
	total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
	bad=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
	passed=$((passed + total - bad))
	failed=$((failed + bad))
	echo "$name: $line" >>"$log"
}

build() {
	"$root/scripts/build.sh" "$@"
}

step format "$root/scripts/check-format.sh"
step banned "$root/scripts/check-banned.sh"

step build-gcc env CC=gcc "$root/scripts/build.sh" gcc -DQUILL_WERROR=ON
suite gcc "$root/build/gcc" -L 'unit|e2e'
if [ $quick = 0 ]; then
	suite valgrind "$root/build/gcc" -L valgrind
	step build-asan env CC=clang "$root/scripts/build.sh" asan \
		-DQUILL_SANITIZE=ON -DQUILL_WERROR=ON
	suite asan "$root/build/asan" -L 'unit|e2e'
	step build-fuzz env CC=clang "$root/scripts/build.sh" fuzz \
		-DQUILL_FUZZ=ON -DQUILL_WERROR=ON \
		-DQUILL_FUZZ_SECONDS="${QUILL_FUZZ_SECONDS:-20}"
	suite fuzz "$root/build/fuzz" -L fuzz
fi

echo "== summary"
cat "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
