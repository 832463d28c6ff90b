#!/bin/sh
# install-deps.sh [--build|--test] [--dry-run] [EXTRA-PACKAGE...]
#
# Installs the Debian 12 (bookworm) packages Quill needs, idempotently and
# without prompts. Each package is checked with dpkg-query; only if some are
# missing does it run `apt-get update` once and then
# `apt-get install -y --no-install-recommends` of the missing ones, as root
# or through sudo. apt's own output goes to stderr; stdout gets one line:
# what was installed, or "all dependencies present".
#
#   --build    compilers, CMake and the libraries (the default)
#   --test     --build plus what the tests, fuzzing and coverage use
#              (and Postfix, through scripts/peers/postfix.sh install)
#   --dry-run  only print what would be installed; needs no root
#   EXTRA-PACKAGE...  further package names to check (and install)
set -eu

build_pkgs="cmake make gcc clang pkg-config libssl-dev libyaml-dev check
libevent-dev libunbound-dev libcrypt-dev zlib1g-dev openssl ca-certificates"
test_pkgs="libclang-rt-14-dev valgrind gcovr clang-format curl python3 swaks
procps msmtp fetchmail mpop neomutt"

usage() {
	sed -n '2,15s/^# \{0,1\}//p' "$0"
}

die() {
	echo "install-deps: $*" >&2
	exit 1
}

group=build
dry_run=0
extra=""
for arg in "$@"; do
	case $arg in
	--build) group="build" ;;
	--test) group="test" ;;
	--dry-run) dry_run=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*) die "unknown option '$arg' (try --help)" ;;
	*) extra="$extra $arg" ;;
	esac
done

wanted=$build_pkgs
[ "$group" = test ] && wanted="$wanted $test_pkgs"
wanted="$wanted $extra"

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: this script is for Debian 12 (bookworm)"

# A package counts as present when dpkg reports it "ok installed"
# ("install ok installed", or "hold ok installed"); "config-files",
# "half-installed" and unknown packages count as missing.
is_installed() {
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	case $status in
	*"ok installed"*) return 0 ;;
	*) return 1 ;;
	esac
}

missing=""
for pkg in $wanted; do
	is_installed "$pkg" || missing="$missing $pkg"
done
missing=${missing# }

# Postfix, a test peer (tests/e2e_postfix_relay.py, bench/), comes through
# its peer script: Debian's "No configuration", no daemon started, no
# start at boot; its private instances are started by the tests.
peer_postfix=""
if [ "$group" = test ] && ! is_installed postfix; then
	peer_postfix=postfix
fi

if [ -z "$missing" ] && [ -z "$peer_postfix" ]; then
	echo "all dependencies present"
	exit 0
fi

if [ "$dry_run" = 1 ]; then
	echo "would install: $(echo "$missing $peer_postfix" | xargs)"
	exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found; install by hand: $missing"

# Root runs apt-get directly; anyone else needs sudo. Without a terminal
# (CI), sudo -n fails at once instead of waiting for a password.
if [ "$(id -u)" -eq 0 ]; then
	set -- env
elif command -v sudo >/dev/null 2>&1; then
	if [ -t 0 ]; then
		set -- sudo env
	else
		set -- sudo -n env
	fi
else
	die "not root and sudo not found; as root run: apt-get install $missing"
fi

export DEBIAN_FRONTEND=noninteractive
"$@" DEBIAN_FRONTEND=noninteractive apt-get -y update >&2 ||
	die "apt-get update failed"
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086 # $missing is a list of package names
	"$@" DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install --no-install-recommends $missing >&2 ||
		die "apt-get install failed for: $missing"
fi
if [ -n "$peer_postfix" ]; then
	"$@" bash "$(dirname "$0")/peers/postfix.sh" install >&2 ||
		die "scripts/peers/postfix.sh install failed"
	missing=$(echo "$missing postfix" | xargs)
fi

still=""
for pkg in $missing; do
	is_installed "$pkg" || still="$still $pkg"
done
[ -z "$still" ] || die "still missing after install:$still"

echo "installed: $missing"
