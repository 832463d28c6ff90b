#!/usr/bin/env bash
# postfix.sh {install|start|stop|restart|status|reset|config} [--with-dovecot]
# Debian 12's Postfix as a reference SMTP/submission peer, on 127.0.0.1
# only: a private instance that delivers to example.test's users and
# relays nowhere.
#
#   install  apt-get install postfix ("No configuration") if missing,
#            without starting Debian's service
#   start    write main.cf/master.cf under $QUILL_PEERS_DIR/postfix
#            (default /tmp/quill-peers/postfix) and `postfix -c DIR start`;
#            waits until every port answers. /etc/postfix is not read.
#   stop     `postfix -c DIR stop` (never the distribution's instance)
#   restart  stop, then start
#   status   what runs and listens; exit 0 if running, 3 if not
#   reset    delete every queued message, then empty the mailboxes
#   config   only write the config and print its directory
#   --with-dovecot  also start (before) / stop (after) / reset
#            scripts/peers/dovecot.sh, for a full SMTP -> LMTP -> POP3/IMAP
#            peer
#
# Listens on 127.0.0.1: SMTP 3025 (STARTTLS offered), submission 3587
# (STARTTLS required), submissions 3465 (implicit TLS); ports from
# QUILL_PEER_*_PORT (see common.sh).
# QUILL_PEER_DELIVERY=auto|lmtp|virtual|hold|relay (default auto): lmtp
# hands mail for example.test to Dovecot's LMTP on 127.0.0.1:3024; virtual
# has Postfix's virtual(8) write the same Maildirs itself; auto picks lmtp
# when dovecot.sh's instance runs; hold only queues (every message goes to
# the hold queue, nothing is delivered: for benchmarks); relay hands it to
# QUILL_PEER_RELAY, a Postfix transport on loopback such as
# smtp:[127.0.0.1]:2525 or lmtp:inet:127.0.0.1:2424 (e.g. quilld). QUILL_PEER_SASL=auto|dovecot|none (default
# auto): AUTH PLAIN/LOGIN on submission through Dovecot's auth socket, when
# Dovecot runs. Needs root.
set -eu -o pipefail

PEER_NAME=postfix
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/peers/common.sh
. "$here/common.sh"

POSTFIX=/usr/sbin/postfix
POSTCONF=/usr/sbin/postconf
POSTSUPER=/usr/sbin/postsuper
MASTER=/usr/lib/postfix/sbin/master
DOVECOT=/usr/sbin/dovecot
PF_DIR=$PEERS_DIR/postfix
PF_ETC=$PF_DIR/etc
PF_QUEUE=$PF_DIR/queue
PF_DATA=$PF_DIR/data
PF_LOG=$PF_DIR/postfix.log
PF_PIDFILE=$PF_QUEUE/pid/master.pid
DC_PIDFILE=$PEERS_DIR/dovecot/run/master.pid
DC_AUTH_SOCKET=$PEERS_DIR/dovecot/run/auth-postfix
DELIVERY=${QUILL_PEER_DELIVERY:-auto}
RELAY=${QUILL_PEER_RELAY:-}
SASL=${QUILL_PEER_SASL:-auto}

usage() {
	sed -n '2,30s/^# \{0,1\}//p' "$0"
}

running_pid() {
	local pid
	pid=$(read_pid "$PF_PIDFILE")
	if pid_is "$pid" "$MASTER"; then
		echo "$pid"
	fi
}

dovecot_running() {
	pid_is "$(read_pid "$DC_PIDFILE")" "$DOVECOT" && port_open "$LMTP_PORT"
}

cmd_install() {
	need_root "apt-get install" install
	# "No configuration": the package installs its files and creates the
	# postfix user and postdrop group, but writes no /etc/postfix/main.cf
	# and so has nothing to start.
	if ! is_installed postfix; then
		need_cmd debconf-set-selections
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections
	fi
	local fresh=0
	is_installed postfix || fresh=1
	apt_install_guarded "$MASTER" -- postfix
	if [ "$fresh" = 1 ]; then
		disable_boot_start postfix.service
	fi
	ensure_mail_user
	local p
	for p in $(pids_of_exe "$MASTER"); do
		if [ "$p" != "$(running_pid)" ]; then
			log "note: a Postfix master not started by this script runs as pid $p"
		fi
	done
	if ss -H -ltnp 2>/dev/null | grep -E '"(master|smtpd)"' >&2; then
		log "WARNING: Postfix processes listen (above)"
	fi
	log "Postfix version: $("$POSTCONF" -d -h mail_version 2>/dev/null || echo '?')"
}

# Decides DELIVERY (lmtp|virtual) and SASL (dovecot|none) from the
# settings and from whether Dovecot's peer instance runs.
choose_modes() {
	case $DELIVERY in
	auto)
		if dovecot_running; then DELIVERY=lmtp; else DELIVERY=virtual; fi
		;;
	lmtp)
		dovecot_running ||
			die "QUILL_PEER_DELIVERY=lmtp but Dovecot's LMTP does not answer on $PEER_HOST:$LMTP_PORT; run scripts/peers/dovecot.sh start"
		;;
	virtual | hold) ;;
	relay)
		# only loopback targets: this peer relays nowhere else
		[[ $RELAY =~ ^(smtp:\[127\.0\.0\.1\]|lmtp:inet:127\.0\.0\.1):[0-9]{1,5}$ ]] ||
			die "QUILL_PEER_DELIVERY=relay needs QUILL_PEER_RELAY=smtp:[127.0.0.1]:PORT or lmtp:inet:127.0.0.1:PORT (got '$RELAY')"
		;;
	*) die "QUILL_PEER_DELIVERY must be auto, lmtp, virtual, hold or relay (got '$DELIVERY')" ;;
	esac
	local usable=0
	if dovecot_running && [ -S "$DC_AUTH_SOCKET" ] &&
		[ "$(stat -c %U "$DC_AUTH_SOCKET")" = postfix ]; then
		usable=1
	fi
	case $SASL in
	auto)
		if [ "$usable" = 1 ]; then SASL=dovecot; else SASL=none; fi
		if [ "$usable" = 0 ] && [ -S "$DC_AUTH_SOCKET" ] && dovecot_running; then
			log "Dovecot's auth socket is not Postfix's (Dovecot started before Postfix was installed?): 'dovecot.sh restart' for SASL"
		fi
		;;
	dovecot)
		[ "$usable" = 1 ] ||
			die "QUILL_PEER_SASL=dovecot but $DC_AUTH_SOCKET is not usable; run scripts/peers/dovecot.sh restart"
		;;
	none) ;;
	*) die "QUILL_PEER_SASL must be auto, dovecot or none (got '$SASL')" ;;
	esac
}

write_config() {
	need_root "Postfix's master binds ports and runs as root" start
	[ -x "$MASTER" ] || die "Postfix is not installed; run: $0 install"
	check_ports
	ensure_state_dir
	ensure_mail_user
	ensure_mail_dirs
	ensure_cert
	choose_modes
	mkdir -p "$PF_ETC" "$PF_QUEUE" "$PF_DATA"
	chown root:root "$PF_DIR" "$PF_ETC" "$PF_QUEUE"
	chmod 0755 "$PF_DIR" "$PF_ETC" "$PF_QUEUE"
	# Postfix wants data_directory owned by mail_owner.
	chown postfix:root "$PF_DATA"
	chmod 0700 "$PF_DATA"

	local transport pair user tmp hold=""
	case $DELIVERY in
	lmtp) transport="lmtp:inet:$PEER_HOST:$LMTP_PORT" ;;
	relay) transport=$RELAY ;;
	*) transport="virtual" ;;
	esac
	if [ "$DELIVERY" = hold ]; then
		# cleanup(8) writes and fsyncs each message as usual, into the
		# hold queue, which qmgr(8) leaves alone
		hold="smtpd_data_restrictions = check_client_access static:HOLD"
	fi

	# Lookup tables as texthash: read as text at start, no postmap step.
	tmp=$(mktemp "$PF_ETC/vmailbox.XXXXXX")
	for pair in $PEER_USERS; do
		user=${pair%%:*}
		printf '%s@%s %s/Maildir/\n' "$user" "$PEER_DOMAIN" "$user" >>"$tmp"
	done
	chmod 0644 "$tmp"
	mv -f "$tmp" "$PF_ETC/vmailbox"
	local first=${PEER_USERS%%:*}
	tmp=$(mktemp "$PF_ETC/valias.XXXXXX")
	# RFC 5321 4.5.1: postmaster must exist; abuse per RFC 2142.
	printf 'postmaster@%s %s@%s\nabuse@%s %s@%s\n' \
		"$PEER_DOMAIN" "$first" "$PEER_DOMAIN" "$PEER_DOMAIN" "$first" "$PEER_DOMAIN" >"$tmp"
	chmod 0644 "$tmp"
	mv -f "$tmp" "$PF_ETC/valias"

	local sasl_main="smtpd_sasl_auth_enable = no"
	local sub_auth="-o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=reject_unauth_destination"
	if [ "$SASL" = dovecot ]; then
		sasl_main="smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC_AUTH_SOCKET
smtpd_sasl_auth_enable = no"
		sub_auth="-o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_security_options=noanonymous
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination"
	fi

	# What status reports: the choices this config was written with.
	printf 'delivery=%s sasl=%s\n' "$DELIVERY" "$SASL" >"$PF_ETC/modes"

	tmp=$(mktemp "$PF_ETC/main.cf.XXXXXX")
	cat >"$tmp" <<EOF
# Written by scripts/peers/postfix.sh; rewritten on every start.
# A private Postfix instance for Quill's protocol tests: loopback only,
# delivers to $PEER_DOMAIN (delivery: $DELIVERY), relays nowhere.
compatibility_level = 3.6

# --- where this instance lives (nothing under /etc/postfix, /var/spool)
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
syslog_name = quill-peer-postfix
maillog_file = $PF_LOG
maillog_file_prefixes = $PEERS_DIR

# --- network: loopback, IPv4, no DNS
inet_interfaces = $PEER_HOST
inet_protocols = ipv4
smtp_bind_address = $PEER_HOST
lmtp_bind_address = $PEER_HOST
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtpd_peername_lookup = no

# --- names
myhostname = mx.peer.test
mydomain = peer.test
myorigin = $PEER_DOMAIN
# Loopback clients are treated like remote ones: no header rewriting.
local_header_rewrite_clients =

# --- delivery: only $PEER_DOMAIN, to its mailboxes; nothing else
mydestination =
local_transport = error:5.1.1 local delivery is disabled in this test peer
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $PEER_DOMAIN
virtual_mailbox_maps = texthash:$PF_ETC/vmailbox
virtual_alias_maps = texthash:$PF_ETC/valias
virtual_transport = $transport
virtual_mailbox_base = $PEER_MAIL_DIR
virtual_uid_maps = static:$PEER_MAIL_UID
virtual_gid_maps = static:$PEER_MAIL_GID
virtual_minimum_uid = $PEER_MAIL_UID
relayhost =
default_transport = error:5.7.1 this test peer relays nowhere
relay_transport = error:5.7.1 this test peer relays nowhere
relay_domains =

# --- SMTP server: like a public MX, also for loopback clients
smtpd_banner = \$myhostname ESMTP Postfix (Quill reference peer)
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
$hold
smtpd_tls_cert_file = $PEER_CERT
smtpd_tls_key_file = $PEER_KEY
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtp_tls_security_level = none
lmtp_tls_security_level = none
$sasl_main
smtpd_sasl_authenticated_header = yes
broken_sasl_auth_clients = no

biff = no
append_dot_mydomain = no
readme_directory = no
EOF
	chmod 0644 "$tmp"
	mv -f "$tmp" "$PF_ETC/main.cf"

	tmp=$(mktemp "$PF_ETC/master.cf.XXXXXX")
	cat >"$tmp" <<EOF
# Written by scripts/peers/postfix.sh; rewritten on every start.
# Only the three listeners below, each on $PEER_HOST. Nothing is chrooted.
# ==========================================================================
# service type  private unpriv  chroot  wakeup  maxproc command + args
#               (yes)   (yes)   (no)    (never) (100)
# ==========================================================================
$PEER_HOST:$SMTP_PORT inet n - n - - smtpd
$PEER_HOST:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=quill-peer-postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  $sub_auth
$PEER_HOST:$SUBMISSIONS_PORT inet n - n - - smtpd
  -o syslog_name=quill-peer-postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  $sub_auth
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	chmod 0644 "$tmp"
	mv -f "$tmp" "$PF_ETC/master.cf"

	local err
	if ! err=$("$POSTFIX" -c "$PF_ETC" check 2>&1); then
		die "postfix check failed for $PF_ETC: $err"
	fi
	if [ -n "$err" ]; then
		log "postfix check: $err"
	fi
}

cmd_start() {
	local pid
	pid=$(running_pid)
	if [ -n "$pid" ]; then
		log "already running (pid $pid); 'restart' to apply new settings"
		check_loopback_only "$pid" || die "a listener is not on loopback"
		return 0
	fi
	write_config
	require_free_ports "$SMTP_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"

	# The daemon must not inherit the caller's stdout/stderr: a caller
	# reading them through a pipe would wait for EOF as long as it runs.
	if ! "$POSTFIX" -c "$PF_ETC" start </dev/null >"$PF_DIR/start.out" 2>&1; then
		cat "$PF_DIR/start.out" >&2
		die "postfix did not start; see $PF_LOG"
	fi
	local deadline=$((SECONDS + PEER_TIMEOUT))
	until pid=$(running_pid) && [ -n "$pid" ]; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$PF_LOG" >&2 2>/dev/null || true
			die "no master pid in $PF_PIDFILE after ${PEER_TIMEOUT}s"
		fi
		sleep 0.2
	done
	local port
	for port in "$SMTP_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"; do
		if ! wait_port "$port" "$PEER_TIMEOUT"; then
			tail -n 20 "$PF_LOG" >&2 2>/dev/null || true
			cmd_stop || true
			die "port $port did not answer within ${PEER_TIMEOUT}s"
		fi
	done
	if ! check_loopback_only "$pid"; then
		cmd_stop || true
		die "stopped: a listener was not on loopback"
	fi
	log "running (pid $pid) on $PEER_HOST: smtp $SMTP_PORT, submission" \
		"$SUBMISSION_PORT, submissions $SUBMISSIONS_PORT; delivery $DELIVERY," \
		"SASL $SASL; log $PF_LOG"
}

cmd_stop() {
	local pid
	pid=$(running_pid)
	if [ -z "$pid" ]; then
		log "not running"
		return 0
	fi
	stop_tree "$pid" "$PEER_TIMEOUT" "$POSTFIX" -c "$PF_ETC" stop ||
		die "some processes of pid $pid's tree did not stop"
	log "stopped (pid $pid)"
}

cmd_status() {
	local pid
	pid=$(running_pid)
	if [ -z "$pid" ]; then
		echo "postfix: stopped (state in $PF_DIR)"
		return 3
	fi
	echo "postfix: running, pid $pid, config $PF_ETC, log $PF_LOG"
	echo "  $(cat "$PF_ETC/modes" 2>/dev/null) (virtual_transport" \
		"$("$POSTCONF" -c "$PF_ETC" -h virtual_transport 2>/dev/null))"
	listeners_of "$pid" | sed 's/^/  listening: /'
	return 0
}

cmd_reset() {
	need_root "the queue and mailboxes belong to postfix and $PEER_MAIL_USER" reset
	check_state_dir
	if [ -d "$PF_QUEUE/deferred" ]; then
		"$POSTSUPER" -c "$PF_ETC" -d ALL >/dev/null 2>&1 || true
	fi
	"$here/dovecot.sh" reset
}

with_dovecot=0
action=${1:-}
[ $# -gt 0 ] && shift
for arg in "$@"; do
	case $arg in
	--with-dovecot) with_dovecot=1 ;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

case $action in
install)
	cmd_install
	if [ "$with_dovecot" = 1 ]; then "$here/dovecot.sh" install; fi
	;;
start)
	if [ "$with_dovecot" = 1 ]; then
		# A Dovecot started before Postfix was installed has an auth
		# socket Postfix cannot use: restart it to get one.
		if dovecot_running && [ -S "$DC_AUTH_SOCKET" ] &&
			[ "$(stat -c %U "$DC_AUTH_SOCKET")" != postfix ]; then
			"$here/dovecot.sh" restart
		else
			"$here/dovecot.sh" start
		fi
	fi
	cmd_start
	;;
stop)
	cmd_stop
	if [ "$with_dovecot" = 1 ]; then "$here/dovecot.sh" stop; fi
	;;
restart)
	cmd_stop
	if [ "$with_dovecot" = 1 ]; then "$here/dovecot.sh" restart; fi
	cmd_start
	;;
status)
	rc=0
	cmd_status || rc=$?
	if [ "$with_dovecot" = 1 ]; then "$here/dovecot.sh" status || rc=$?; fi
	exit "$rc"
	;;
reset) cmd_reset ;;
config)
	write_config
	echo "$PF_ETC"
	;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
