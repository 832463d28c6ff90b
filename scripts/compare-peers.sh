#!/bin/sh
# compare-peers.sh [BUILD-DIR] - run the scenario suite against quilld,
# Postfix and Dovecot from Debian (on loopback only), side by side, and
# write docs/comparison.md: scenario x server, with the note that explains
# each difference. Needs root (the peers are installed with apt-get and
# run as private instances; see docs/peers.md). The harness starts and
# stops each peer through its target file.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/gcc}
harness="$build/harness/quill-harness"
[ -x "$harness" ] || {
	echo "compare-peers: no $harness; build first (scripts/build.sh gcc)" >&2
	exit 2
}
"$root/scripts/peers/postfix.sh" install --with-dovecot >&2
cd "$root"
# with --compare, scenario failures are the table's content: only a target
# that cannot run makes the harness fail
"$harness" run --root "$root" --quilld "$build/server/quilld" \
	--target scenarios/targets/postfix.yaml \
	--target scenarios/targets/dovecot.yaml \
	--compare docs/comparison.md scenarios/
[ -s docs/comparison.md ] || {
	echo "compare-peers: no table written" >&2
	exit 1
}
echo "compare-peers: wrote docs/comparison.md"
