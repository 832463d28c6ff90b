#!/usr/bin/env bash
# dovecot.sh {install|start|stop|restart|status|reset|config} - Debian 12's
# Dovecot as a reference POP3/IMAP/LMTP peer, on 127.0.0.1 only.
#
#   install  apt-get install dovecot-core dovecot-pop3d dovecot-imapd
#            dovecot-lmtpd if missing, without starting Debian's service
#   start    write a private config under $QUILL_PEERS_DIR/dovecot (default
#            /tmp/quill-peers/dovecot) and start that instance; waits until
#            every port answers. The distribution's /etc/dovecot is not read.
#   stop     stop the private instance (never the distribution's)
#   restart  stop, then start
#   status   print what runs and listens; exit 0 if running, 3 if not
#   reset    empty every user's mailboxes (and delete their folders)
#   config   only write the config and print its path
#
# Listens on 127.0.0.1: POP3 3110 (STLS), POP3S 3995, IMAP 3143 (STARTTLS),
# IMAPS 3993, LMTP 3024; ports from QUILL_PEER_*_PORT (see common.sh).
# Users alice/wonderland and bob/builder, domain example.test, Maildir
# under $QUILL_PEERS_DIR/mail/<user>/Maildir, owned by system user quillpeer.
# QUILL_PEER_DOVECOT_MAIL sets another mail_location for start (e.g.
# mbox:~/mail:INBOX=~/mail/inbox; ~ is the user's home above).
# Needs root (install, and start: the master binds and setuids).
set -eu -o pipefail

PEER_NAME=dovecot
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/peers/common.sh
. "$here/common.sh"

DOVECOT=/usr/sbin/dovecot
DOVEADM=/usr/bin/doveadm
DOVECONF=/usr/bin/doveconf
DC_DIR=$PEERS_DIR/dovecot
DC_ETC=$DC_DIR/etc
DC_CONF=$DC_ETC/dovecot.conf
DC_USERS=$DC_ETC/users
DC_RUN=$DC_DIR/run
DC_LIB=$DC_DIR/lib
DC_LOG=$DC_DIR/dovecot.log
DC_PIDFILE=$DC_RUN/master.pid
# The auth socket Postfix's submission service uses for SASL.
DC_AUTH_SOCKET=$DC_RUN/auth-postfix

# (through a variable: bash would expand a literal ~ after ':' in the
# assignment to the caller's home)
DC_MAIL_DEFAULT='maildir:~/Maildir'
DC_MAIL=${QUILL_PEER_DOVECOT_MAIL:-$DC_MAIL_DEFAULT}

usage() {
	sed -n '2,23s/^# \{0,1\}//p' "$0"
}

running_pid() {
	local pid
	pid=$(read_pid "$DC_PIDFILE")
	if pid_is "$pid" "$DOVECOT"; then
		echo "$pid"
	fi
}

cmd_install() {
	local fresh=0
	is_installed dovecot-core || fresh=1
	apt_install_guarded "$DOVECOT" -- \
		dovecot-core dovecot-pop3d dovecot-imapd dovecot-lmtpd
	# Debian's default config listens on every address: never at boot.
	if [ "$fresh" = 1 ]; then
		disable_boot_start dovecot.service dovecot.socket
	fi
	ensure_mail_user
	# Debian's own instance must not be running either; report, not touch.
	local p
	for p in $(pids_of_exe "$DOVECOT"); do
		if [ "$p" != "$(running_pid)" ]; then
			log "note: a Dovecot not started by this script runs as pid $p"
		fi
	done
	if ss -H -ltnp 2>/dev/null | grep -E '"(dovecot|imap-login|pop3-login)"' >&2; then
		log "WARNING: Dovecot processes listen (above)"
	fi
	log "Dovecot version: $("$DOVECOT" --version 2>/dev/null || echo '?')"
}

write_config() {
	need_root "Dovecot's master binds ports and switches users" start
	[ -x "$DOVECOT" ] || die "Dovecot is not installed; run: $0 install"
	check_ports
	[[ $DC_MAIL =~ ^(maildir|mbox):[A-Za-z0-9_.~/:=%-]+$ ]] ||
		die "QUILL_PEER_DOVECOT_MAIL: maildir:... or mbox:... with plain characters (got '$DC_MAIL')"
	ensure_state_dir
	ensure_mail_user
	ensure_mail_dirs
	ensure_cert
	mkdir -p "$DC_ETC" "$DC_LIB"
	chmod 0755 "$DC_DIR" "$DC_ETC" "$DC_LIB"

	# passwd-file: user:{scheme}password:uid:gid:gecos:home:shell:extra
	# uid/gid/home come from the global settings below (virtual users).
	local pair tmp
	tmp=$(mktemp "$DC_ETC/users.XXXXXX")
	for pair in $PEER_USERS; do
		printf '%s@%s:{PLAIN}%s::::::\n' "${pair%%:*}" "$PEER_DOMAIN" "${pair#*:}" >>"$tmp"
	done
	# Read by the auth process, which runs as the internal user (dovecot).
	chown root:dovecot "$tmp"
	chmod 0640 "$tmp"
	mv -f "$tmp" "$DC_USERS"

	# Postfix (smtpd runs as user postfix) may use our auth socket for
	# SASL on submission; if Postfix is not installed, root only.
	local auth_owner="user = root
    group = root
    mode = 0600"
	if getent passwd postfix >/dev/null && getent group postfix >/dev/null; then
		auth_owner="user = postfix
    group = postfix
    mode = 0660"
	fi
	local dh=""
	if [ -r /usr/share/dovecot/dh.pem ]; then
		dh="ssl_dh = </usr/share/dovecot/dh.pem"
	fi

	tmp=$(mktemp "$DC_ETC/dovecot.conf.XXXXXX")
	cat >"$tmp" <<EOF
# Written by scripts/peers/dovecot.sh; rewritten on every start.
# A private Dovecot instance for Quill's protocol tests: loopback only,
# nothing shared with /etc/dovecot.

instance_name = quill-peer-dovecot
base_dir = $DC_RUN
state_dir = $DC_LIB
log_path = $DC_LOG
hostname = store.peer.test
postmaster_address = postmaster@$PEER_DOMAIN

protocols = pop3 imap lmtp
# Default address for every listener; each listener below names it again.
listen = $PEER_HOST
shutdown_clients = yes

ssl = yes
ssl_cert = <$PEER_CERT
ssl_key = <$PEER_KEY
$dh

# Loopback tests log in with plaintext passwords before TLS, too.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes

# Virtual users: all mail owned by one system user.
mail_uid = $PEER_MAIL_USER
mail_gid = $PEER_MAIL_USER
first_valid_uid = $PEER_MAIL_UID
first_valid_gid = $PEER_MAIL_GID
mail_location = $DC_MAIL

# Users are full addresses; a login without a domain ("alice") gets
# @$PEER_DOMAIN added, so "alice" and "alice@$PEER_DOMAIN" are one user and
# LMTP refuses other domains.
auth_default_realm = $PEER_DOMAIN
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC_USERS
}
userdb {
  driver = passwd-file
  args = $DC_USERS
  default_fields = home=$PEER_MAIL_DIR/%n
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}

service imap-login {
  inet_listener imap {
    address = $PEER_HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = $PEER_HOST
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $PEER_HOST
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = $PEER_HOST
    port = $POP3S_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = $PEER_HOST
    port = $LMTP_PORT
  }
}
service auth {
  unix_listener auth-postfix {
    $auth_owner
  }
}
EOF
	chmod 0644 "$tmp"
	mv -f "$tmp" "$DC_CONF"

	local err
	if ! err=$("$DOVECONF" -c "$DC_CONF" -n 2>&1 >/dev/null); then
		die "Dovecot rejects $DC_CONF: $err"
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
	require_free_ports "$POP3_PORT" "$POP3S_PORT" "$IMAP_PORT" \
		"$IMAPS_PORT" "$LMTP_PORT"

	# The daemon must not inherit the caller's stdout/stderr: a caller
	# reading them through a pipe would wait for EOF as long as it runs.
	if ! "$DOVECOT" -c "$DC_CONF" </dev/null >"$DC_DIR/start.out" 2>&1; then
		cat "$DC_DIR/start.out" >&2
		die "dovecot did not start; see $DC_LOG"
	fi

	local deadline=$((SECONDS + PEER_TIMEOUT))
	until pid=$(running_pid) && [ -n "$pid" ]; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$DC_LOG" >&2 2>/dev/null || true
			die "no master pid in $DC_PIDFILE after ${PEER_TIMEOUT}s"
		fi
		sleep 0.2
	done
	local port
	for port in "$POP3_PORT" "$POP3S_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
		if ! wait_port "$port" "$PEER_TIMEOUT"; then
			tail -n 20 "$DC_LOG" >&2 2>/dev/null || true
			cmd_stop || true
			die "port $port did not answer within ${PEER_TIMEOUT}s"
		fi
	done
	if ! check_loopback_only "$pid"; then
		cmd_stop || true
		die "stopped: a listener was not on loopback"
	fi
	log "running (pid $pid) on $PEER_HOST: pop3 $POP3_PORT, pop3s $POP3S_PORT," \
		"imap $IMAP_PORT, imaps $IMAPS_PORT, lmtp $LMTP_PORT; log $DC_LOG"
}

cmd_stop() {
	local pid
	pid=$(running_pid)
	if [ -z "$pid" ]; then
		log "not running"
		return 0
	fi
	stop_tree "$pid" "$PEER_TIMEOUT" "$DOVEADM" -c "$DC_CONF" stop ||
		die "some processes of pid $pid's tree did not stop"
	log "stopped (pid $pid)"
}

cmd_status() {
	local pid
	pid=$(running_pid)
	if [ -z "$pid" ]; then
		echo "dovecot: stopped (state in $DC_DIR)"
		return 3
	fi
	echo "dovecot: running, pid $pid, config $DC_CONF, log $DC_LOG"
	listeners_of "$pid" | sed 's/^/  listening: /'
	if [ -S "$DC_AUTH_SOCKET" ]; then
		echo "  auth socket for Postfix SASL: $DC_AUTH_SOCKET"
	fi
	return 0
}

# Removes every user's Maildir (all folders, indexes, UID lists): the next
# login or delivery starts from an empty INBOX with a new UIDVALIDITY.
# Sessions still open are kicked first.
cmd_reset() {
	need_root "the mailboxes belong to $PEER_MAIL_USER" reset
	check_state_dir
	local pid pair user names=""
	pid=$(running_pid)
	for pair in $PEER_USERS; do
		user=${pair%%:*}
		names="$names $user"
		if [ -n "$pid" ]; then
			"$DOVEADM" -c "$DC_CONF" kick "$user" >/dev/null 2>&1 || true
		fi
		if [ -d "$PEER_MAIL_DIR/$user" ]; then
			find "$PEER_MAIL_DIR/$user" -mindepth 1 -delete
		fi
	done
	if getent passwd "$PEER_MAIL_USER" >/dev/null; then
		ensure_mail_user
		ensure_mail_dirs
	fi
	log "mailboxes emptied:$names"
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart)
	cmd_stop
	cmd_start
	;;
status) cmd_status ;;
reset) cmd_reset ;;
config)
	write_config
	echo "$DC_CONF"
	;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
