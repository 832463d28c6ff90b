#!/bin/sh
# run-fuzzer.sh BINARY CORPUS SECONDS [DICT]
# Runs one libFuzzer target for SECONDS on a scratch copy of its seed
# corpus (the seeds in git stay as they are). A crash leaves its input in
# fuzz/artifacts/ to be turned into a regression seed.
set -eu
bin=$1 corpus=$2 seconds=$3 dict=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$corpus"/. "$work"/ 2>/dev/null || true
artifacts="$(dirname "$0")/artifacts/$(basename "$bin")"
mkdir -p "$artifacts"
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$artifacts/"
[ -n "$dict" ] && [ -f "$dict" ] && set -- "$@" -dict="$dict"
exec "$bin" "$@" "$work"
