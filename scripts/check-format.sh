#!/bin/sh
# check-format.sh [--fix] [FILE...]
#
# Checks the C sources against the root .clang-format with
# `clang-format --dry-run --Werror`: every *.c and *.h under lib server
# client harness fuzz that git tracks or would track (not ignored), or all
# of them found by `find` outside a git checkout. FILEs, if given, are
# checked instead. Prints each file that differs with its diff and exits 1;
# prints "format: N files ok" and exits 0 when all are clean. With --fix the
# files that differ are rewritten in place (clang-format -i).
# CLANG_FORMAT overrides the clang-format binary (CI uses Debian 12's, 14).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
clang_format=${CLANG_FORMAT:-clang-format}
dirs="lib server client harness fuzz"

fix=0
if [ "${1:-}" = --fix ]; then
	fix=1
	shift
fi
case ${1:-} in
-h | --help)
	sed -n '2,11s/^# \{0,1\}//p' "$0"
	exit 0
	;;
-*)
	echo "check-format: unknown option '$1'" >&2
	exit 2
	;;
esac

command -v "$clang_format" >/dev/null 2>&1 || {
	echo "check-format: $clang_format not found (scripts/install-deps.sh --test)" >&2
	exit 2
}

list=$(mktemp)
formatted=$(mktemp)
trap 'rm -f "$list" "$formatted"' EXIT
style="--style=file:$root/.clang-format"

if [ $# -gt 0 ]; then
	printf '%s\n' "$@" >"$list"
else
	cd "$root"
	# shellcheck disable=SC2086 # $dirs is a list of folder names
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -- $dirs |
			grep -E '\.[ch]$' | sort -u >"$list" || true
	else
		for d in $dirs; do
			[ -d "$d" ] && find "$d" -type f -name '*.[ch]'
		done | sort >"$list"
	fi
fi

total=0
bad=0
while IFS= read -r f; do
	if [ ! -f "$f" ]; then
		[ $# -eq 0 ] && continue # tracked but deleted in the work tree
		echo "check-format: $f: no such file" >&2
		exit 2
	fi
	total=$((total + 1))
	if "$clang_format" "$style" --dry-run --Werror "$f" >/dev/null 2>&1; then
		continue
	fi
	# Either the file differs or clang-format itself failed: tell apart.
	if ! "$clang_format" "$style" "$f" >"$formatted"; then
		echo "check-format: $clang_format failed on $f" >&2
		exit 2
	fi
	bad=$((bad + 1))
	if [ "$fix" = 1 ]; then
		"$clang_format" "$style" -i "$f"
		echo "format: fixed $f"
	else
		echo "format: $f differs from .clang-format:"
		diff -u "$f" "$formatted" | sed '1,2d' || true
	fi
done <"$list"

if [ "$bad" -eq 0 ]; then
	echo "format: $total files ok"
elif [ "$fix" = 1 ]; then
	echo "format: fixed $bad of $total files"
else
	echo "format: $bad of $total files need formatting;" \
		"run scripts/check-format.sh --fix"
	exit 1
fi
