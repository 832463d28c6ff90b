#!/bin/sh
# dev.sh - the README's first command: install what is missing, build, and
# start quilld on its dev defaults (state in ./var, loopback ports 2525,
# 2587, 2465; users alice/wonderland and bob/builder). Ctrl-C stops it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --build
"$root/scripts/build.sh" dev -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$root"
exec "$root/build/dev/server/quilld" --dev "$@"
