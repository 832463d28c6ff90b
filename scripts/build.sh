#!/bin/sh
# build.sh NAME [CMAKE-ARGS...] - configure and build into build/NAME.
#   build.sh gcc  -DQUILL_WERROR=ON
#   CC=clang build.sh asan -DQUILL_SANITIZE=ON
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
name=$1
shift
dir="$root/build/$name"
cmake -S "$root" -B "$dir" "$@" >/dev/null
cmake --build "$dir" --parallel "$(nproc 2>/dev/null || echo 2)"
