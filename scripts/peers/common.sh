# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# common.sh - helpers shared by scripts/peers/dovecot.sh and postfix.sh.
# Sourced, never run. Everything here is about *private* peer instances on
# loopback: a state directory, the ports, a self-signed certificate, the
# mail user, an apt-get that cannot start daemons, bounded waits, pid files
# and a check that nothing listens beyond loopback.
#
# Environment (all optional):
#   QUILL_PEERS_DIR               state directory (default /tmp/quill-peers)
#   QUILL_PEER_TIMEOUT            seconds any wait may take (default 20)
#   QUILL_PEER_POP3_PORT          Dovecot POP3, STLS offered    (default 3110)
#   QUILL_PEER_POP3S_PORT         Dovecot POP3 over TLS         (default 3995)
#   QUILL_PEER_IMAP_PORT          Dovecot IMAP, STARTTLS offered (default 3143)
#   QUILL_PEER_IMAPS_PORT         Dovecot IMAP over TLS         (default 3993)
#   QUILL_PEER_LMTP_PORT          Dovecot LMTP                  (default 3024)
#   QUILL_PEER_SMTP_PORT          Postfix SMTP, STARTTLS offered (default 3025)
#   QUILL_PEER_SUBMISSION_PORT    Postfix submission, STARTTLS  (default 3587)
#   QUILL_PEER_SUBMISSIONS_PORT   Postfix submission over TLS   (default 3465)
# The listening address is always 127.0.0.1 and cannot be changed.

# The only address any peer listens on or talks to.
PEER_HOST=127.0.0.1
# The system user that owns all peer mail (Dovecot mail_uid, Postfix
# virtual_uid_maps). Created by ensure_mail_user.
PEER_MAIL_USER=quillpeer
PEER_DOMAIN=example.test
# user:password pairs, the same as quilld --dev.
PEER_USERS="alice:wonderland bob:builder"

PEERS_DIR=${QUILL_PEERS_DIR:-/tmp/quill-peers}
PEER_TIMEOUT=${QUILL_PEER_TIMEOUT:-20}
PEER_TLS_DIR=$PEERS_DIR/tls
PEER_CERT=$PEER_TLS_DIR/cert.pem
PEER_KEY=$PEER_TLS_DIR/key.pem
PEER_MAIL_DIR=$PEERS_DIR/mail

POP3_PORT=${QUILL_PEER_POP3_PORT:-3110}
POP3S_PORT=${QUILL_PEER_POP3S_PORT:-3995}
IMAP_PORT=${QUILL_PEER_IMAP_PORT:-3143}
IMAPS_PORT=${QUILL_PEER_IMAPS_PORT:-3993}
LMTP_PORT=${QUILL_PEER_LMTP_PORT:-3024}
SMTP_PORT=${QUILL_PEER_SMTP_PORT:-3025}
SUBMISSION_PORT=${QUILL_PEER_SUBMISSION_PORT:-3587}
SUBMISSIONS_PORT=${QUILL_PEER_SUBMISSIONS_PORT:-3465}

# PEER_NAME is set by the sourcing script ("dovecot", "postfix").
log() {
	printf '%s: %s\n' "${PEER_NAME:-peers}" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

# --- validation -----------------------------------------------------------

# The state directory ends up inside config files and rm -rf paths: only
# absolute, plain paths are accepted, and never / or a top-level system dir.
check_state_dir() {
	case $PEERS_DIR in
	/*) ;;
	*) die "QUILL_PEERS_DIR must be an absolute path (got '$PEERS_DIR')" ;;
	esac
	[[ $PEERS_DIR =~ ^/[A-Za-z0-9._/-]+$ ]] ||
		die "QUILL_PEERS_DIR may hold only letters, digits and ._-/ (got '$PEERS_DIR')"
	case ${PEERS_DIR%/} in
	"" | /tmp | /var | /var/tmp | /etc | /usr | /root | /home | /opt | /srv | /run)
		die "QUILL_PEERS_DIR must be a directory of its own, not '$PEERS_DIR'"
		;;
	esac
	# Dovecot's sockets live below it; unix socket paths are short.
	if [ ${#PEERS_DIR} -gt 60 ]; then
		die "QUILL_PEERS_DIR is too long for unix socket paths (max 60 chars)"
	fi
}

check_ports() {
	local name port
	for name in POP3_PORT POP3S_PORT IMAP_PORT IMAPS_PORT LMTP_PORT \
		SMTP_PORT SUBMISSION_PORT SUBMISSIONS_PORT; do
		port=${!name}
		if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] || [ "$port" -gt 65535 ]; then
			die "QUILL_PEER_$name must be a number from 1024 to 65535 (got '$port')"
		fi
	done
	if ! [[ $PEER_TIMEOUT =~ ^[0-9]+$ ]] || [ "$PEER_TIMEOUT" -lt 1 ]; then
		die "QUILL_PEER_TIMEOUT must be a positive number of seconds"
	fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "must run as root ($1); try: sudo $0 ${2:-}"
}

need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+: $2}"
}

# --- packages --------------------------------------------------------------

# A package counts as present when dpkg says "ok installed".
is_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	case $status in
	*"ok installed"*) return 0 ;;
	*) return 1 ;;
	esac
}

# Pids of running processes whose executable is one of the given paths.
pids_of_exe() {
	local p exe want
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		for want in "$@"; do
			if [ "$exe" = "$want" ]; then
				echo "${p#/proc/}"
			fi
		done
	done
}

# apt_install_guarded EXE-PATHS -- PACKAGE...
# Installs packages without letting their maintainer scripts start any
# daemon: a policy-rc.d that answers 101 ("action forbidden") is put in
# place for the duration of apt-get unless one that already does is there,
# and removed afterwards only if this function created it. Refuses when
# apt would remove any package (another MTA, say). Afterwards any process
# running one of EXE-PATHS that was not running before is one the install
# started despite the guard: it is reported and stopped by its pid.
apt_install_guarded() {
	local exes=() pkgs=() missing=() pkg
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		exes+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	pkgs=("$@")
	for pkg in "${pkgs[@]}"; do
		is_installed "$pkg" || missing+=("$pkg")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "already installed: ${pkgs[*]}"
		return 0
	fi
	need_root "apt-get install" install
	need_cmd apt-get "this script is for Debian 12 (bookworm)"

	local policy=/usr/sbin/policy-rc.d created=0 moved=""
	if [ -e "$policy" ]; then
		local rc=0
		"$policy" quill-peer start >/dev/null 2>&1 || rc=$?
		if [ "$rc" -ne 101 ]; then
			moved=$(mktemp "$policy.quill-saved.XXXXXX")
			mv -f "$policy" "$moved"
			log "moved the existing $policy aside to $moved for the install"
		fi
	fi
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# quill peers: no daemon may start during apt-get\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		created=1
	fi
	# shellcheck disable=SC2064 # expand now: these are this call's values
	trap "peer_policy_restore '$created' '$moved'" EXIT
	# shellcheck disable=SC2064
	trap "peer_policy_restore '$created' '$moved'; exit 130" INT TERM HUP

	local before
	before=$(pids_of_exe "${exes[@]}" | sort)

	export DEBIAN_FRONTEND=noninteractive
	local opts=(-y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
		-o Dpkg::Options::=--force-confold --no-install-recommends)
	local sim
	if ! sim=$(apt-get -s "${opts[@]}" install "${missing[@]}" 2>&1); then
		log "apt-get cannot resolve ${missing[*]}; running apt-get update"
		apt-get -y update >&2 || die "apt-get update failed"
		sim=$(apt-get -s "${opts[@]}" install "${missing[@]}" 2>&1) ||
			die "apt-get cannot install ${missing[*]}: $sim"
	fi
	if grep -q '^Remv ' <<<"$sim"; then
		grep '^Remv ' <<<"$sim" >&2
		die "installing ${missing[*]} would remove the packages above; not doing it"
	fi
	apt-get "${opts[@]}" install "${missing[@]}" >&2 ||
		die "apt-get install failed for: ${missing[*]}"

	peer_policy_restore "$created" "$moved"
	trap - EXIT INT TERM HUP

	for pkg in "${missing[@]}"; do
		is_installed "$pkg" || die "$pkg still missing after apt-get install"
	done
	log "installed: ${missing[*]}"

	local after started p
	after=$(pids_of_exe "${exes[@]}" | sort)
	started=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep . || true)
	if [ -n "$started" ]; then
		log "WARNING: the package install started processes despite policy-rc.d:"
		for p in $started; do
			log "  pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		done
		for p in $started; do
			kill "$p" 2>/dev/null || true
		done
		log "stopped them (pids: $(echo "$started" | tr '\n' ' '))"
	fi
}

# disable_boot_start UNIT...: a package just installed enables its
# service at boot (systemd wants-links, sysv rc links). On a machine that
# boots with systemd that would later start the distribution's instance
# with its default config, which listens on every address. Undo that for
# the given units (e.g. dovecot.service dovecot.socket); sysv links are
# disabled for the service's base name. Undo with deb-systemd-helper
# enable / update-rc.d NAME enable.
disable_boot_start() {
	local unit
	for unit in "$@"; do
		if command -v deb-systemd-helper >/dev/null 2>&1; then
			deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
		fi
		case $unit in
		*.service)
			if [ -e "/etc/init.d/${unit%.service}" ] &&
				command -v update-rc.d >/dev/null 2>&1; then
				update-rc.d "${unit%.service}" disable >/dev/null 2>&1 || true
			fi
			;;
		esac
	done
	log "disabled start at boot of the distribution's $*"
}

peer_policy_restore() {
	local created=$1 moved=$2 policy=/usr/sbin/policy-rc.d
	if [ "$created" = 1 ]; then
		rm -f "$policy"
	fi
	if [ -n "$moved" ] && [ -e "$moved" ]; then
		mv -f "$moved" "$policy"
	fi
}

# --- state, user, certificate -------------------------------------------

ensure_state_dir() {
	check_state_dir
	mkdir -p "$PEERS_DIR"
	# Root-owned and not writable by others: Postfix insists on that for
	# every directory on the path to its queue, and nobody else should
	# plant files here.
	chown root:root "$PEERS_DIR"
	chmod 0755 "$PEERS_DIR"
}

# The system user owning the peers' mail: no login, no home directory.
ensure_mail_user() {
	if ! getent passwd "$PEER_MAIL_USER" >/dev/null; then
		need_cmd useradd
		useradd --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin \
			--comment "Quill reference peers mail owner" "$PEER_MAIL_USER" ||
			die "could not create the system user $PEER_MAIL_USER"
		log "created system user $PEER_MAIL_USER"
	fi
	PEER_MAIL_UID=$(id -u "$PEER_MAIL_USER")
	PEER_MAIL_GID=$(id -g "$PEER_MAIL_USER")
	export PEER_MAIL_UID PEER_MAIL_GID
}

# $PEERS_DIR/mail/<user>/ for each user, owned by the mail user; Maildir
# below it is created by whoever delivers first (Dovecot or Postfix).
ensure_mail_dirs() {
	local pair user
	mkdir -p "$PEER_MAIL_DIR"
	chmod 0755 "$PEER_MAIL_DIR"
	for pair in $PEER_USERS; do
		user=${pair%%:*}
		mkdir -p "$PEER_MAIL_DIR/$user"
		chown "$PEER_MAIL_USER:$PEER_MAIL_USER" "$PEER_MAIL_DIR/$user"
		chmod 0700 "$PEER_MAIL_DIR/$user"
	done
}

# A self-signed certificate for CN=localhost with SANs localhost, 127.0.0.1
# and ::1, made once and kept; remade if missing, unreadable or expiring
# within a day. It is its own trust anchor (CA:TRUE), so clients can give
# it as their CA file.
ensure_cert() {
	need_cmd openssl
	mkdir -p "$PEER_TLS_DIR"
	chmod 0755 "$PEER_TLS_DIR"
	if [ -s "$PEER_CERT" ] && [ -s "$PEER_KEY" ] &&
		openssl x509 -in "$PEER_CERT" -noout -checkend 86400 >/dev/null 2>&1 &&
		openssl x509 -in "$PEER_CERT" -noout -ext subjectAltName 2>/dev/null |
		grep -q 'IP Address:127.0.0.1'; then
		return 0
	fi
	local tmpkey tmpcert
	tmpkey=$(mktemp "$PEER_TLS_DIR/key.XXXXXX")
	tmpcert=$(mktemp "$PEER_TLS_DIR/cert.XXXXXX")
	if ! openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
		-keyout "$tmpkey" -out "$tmpcert" -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
		-addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1; then
		rm -f "$tmpkey" "$tmpcert"
		die "openssl could not make the certificate"
	fi
	chmod 0600 "$tmpkey"
	chmod 0644 "$tmpcert"
	mv -f "$tmpkey" "$PEER_KEY"
	mv -f "$tmpcert" "$PEER_CERT"
	log "made a self-signed certificate for localhost: $PEER_CERT"
}

# --- processes and ports ----------------------------------------------------

# read_pid FILE: the pid in FILE (digits only), or nothing.
read_pid() {
	[ -r "$1" ] || return 0
	tr -dc '0-9' <"$1"
}

# pid_is PID EXE: PID is alive and runs the executable EXE.
pid_is() {
	[ -n "$1" ] || return 1
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]
}

# pid_live PID: PID exists and is not a zombie.
pid_live() {
	local state
	state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_tree PID SECONDS STOP-COMMAND...: runs STOP-COMMAND (or, if it
# fails, sends SIGTERM to PID), then waits until PID and every process that
# was its descendant are gone (zombies count as gone). What is still alive
# after SECONDS gets SIGKILL, by pid; only processes of this tree are
# touched.
stop_tree() {
	local pid=$1 secs=$2 tree p left deadline
	shift 2
	tree=$(descendants "$pid")
	"$@" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
	deadline=$((SECONDS + secs))
	while :; do
		left=""
		for p in $tree; do
			if pid_live "$p"; then left="$left $p"; fi
		done
		[ -n "$left" ] || return 0
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.2
	done
	log "still running after ${secs}s:$left; sending SIGKILL"
	for p in $left; do
		kill -KILL "$p" 2>/dev/null || true
	done
	sleep 0.5
	for p in $left; do
		if pid_live "$p"; then
			log "could not stop pid $p"
			return 1
		fi
	done
	return 0
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$PEER_HOST/$1" 2>/dev/null
}

# wait_port PORT SECONDS: 0 once 127.0.0.1:PORT accepts, 1 on timeout.
wait_port() {
	local deadline=$((SECONDS + $2))
	until port_open "$1"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
	return 0
}

# who_listens PORT: the ss line(s) of TCP listeners on PORT, any address.
who_listens() {
	ss -H -ltnp "sport = :$1" 2>/dev/null || true
}

# require_free_ports PORT...: die if any port already has a listener.
require_free_ports() {
	local port line busy=0
	for port in "$@"; do
		line=$(who_listens "$port")
		if [ -n "$line" ]; then
			log "port $port is already in use: $line"
			busy=1
		fi
	done
	[ "$busy" = 0 ] || die "ports in use; stop what holds them or choose others (QUILL_PEER_*_PORT)"
}

# descendants PID: PID and all its descendants, one per line.
descendants() {
	local queue=("$1") p kids
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		echo "$p"
		kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
		for k in $kids; do
			queue+=("$k")
		done
	done
}

# listeners_of PID: every TCP and UDP listening socket held by PID or its
# descendants, as "proto address:port" lines.
listeners_of() {
	local pids pat
	pids=$(descendants "$1" | tr '\n' '|')
	pat="pid=(${pids%|}),"
	ss -H -ltunp 2>/dev/null | grep -E "$pat" | awk '{print $1, $5}' | sort -u
}

# check_loopback_only PID: 0 if every listener of PID's process tree is on
# 127.0.0.1 or [::1]; otherwise prints the offenders and returns 1.
check_loopback_only() {
	local bad
	bad=$(listeners_of "$1" | awk '$2 !~ /^(127\.0\.0\.1|\[::1\]):[0-9]+$/')
	if [ -n "$bad" ]; then
		log "NOT LOOPBACK: $bad"
		return 1
	fi
	return 0
}
