#!/bin/sh
# coverage.sh SOURCE-DIR BUILD-DIR
#
# Coverage report for a build configured with -DQUILL_COVERAGE=ON and
# already built (the `coverage` target builds first, then calls this):
# zeroes the counters (*.gcda), runs the unit and e2e tests with ctest,
# then has gcovr write an HTML report with annotated sources of lib/,
# server/, client/ and harness/ (tests and fuzz targets left out) to
# BUILD-DIR/coverage/index.html and prints one line:
#   coverage: lines NN.N% (covered/total), branches NN.N% (covered/total) — report: PATH
# Exits non-zero if a test failed (the report is written all the same).
# Environment: GCOV (gcov command matching the compiler, e.g.
# "llvm-cov-14 gcov" for clang), GCOVR, CTEST, CTEST_PARALLEL_LEVEL.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SOURCE-DIR BUILD-DIR" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
gcov=${GCOV:-gcov}
gcovr=${GCOVR:-gcovr}
ctest=${CTEST:-ctest}
jobs=${CTEST_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
out=$build/coverage

if ! find "$build" -name '*.gcno' | grep -q .; then
	echo "coverage: no *.gcno under $build; configure with" \
		"-DQUILL_COVERAGE=ON and build first" >&2
	exit 2
fi

# Counters from earlier runs would add to this one's.
find "$build" -name '*.gcda' -delete

tests_rc=0
"$ctest" --test-dir "$build" -L 'unit|e2e' --output-on-failure -j "$jobs" ||
	tests_rc=$?

mkdir -p "$out"
# Only the report's own files: $out is also CMake's binary dir for coverage/.
rm -f "$out"/index*.html "$out"/index.css "$out"/summary.json

# Relative filters are matched against paths relative to the working
# directory, hence the cd: keep lib/ server/ client/ harness/, drop any
# tests/ folder below them.
cd "$src"
"$gcovr" --root "$src" --gcov-executable "$gcov" -j "$jobs" \
	--filter 'lib/' --filter 'server/' --filter 'client/' \
	--filter 'harness/' --exclude '(.+/)?tests/' --exclude 'fuzz/' \
	--exclude-unreachable-branches \
	--html-details "$out/index.html" --html-title "Quill coverage" \
	--json-summary "$out/summary.json" \
	"$build" >&2

python3 - "$out/summary.json" "$out/index.html" <<'EOF'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    s = json.load(f)


def part(kind):
    covered, total = s[kind + "_covered"], s[kind + "_total"]
    pct = 100.0 * covered / total if total else 0.0
    return f"{pct:.1f}% ({covered}/{total})"


sys.stdout.reconfigure(encoding="utf-8")
print(f"coverage: lines {part('line')}, branches {part('branch')} "
      f"\u2014 report: {sys.argv[2]}")
EOF

if [ "$tests_rc" -ne 0 ]; then
	echo "coverage: some tests failed (ctest exit $tests_rc)" >&2
fi
exit "$tests_rc"
