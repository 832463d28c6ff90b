#!/usr/bin/env bash
# smtp_bench.sh [-m MESSAGES] [-l BYTES] [-s "1 8 64"] [-r ROUNDS]
#               [-g GROUP_COMMIT_MS] [-S syncfs|fsync] [-t POOL_THREADS]
#               [-D] [-k] [QUILLD]
#
# Messages per second accepted and durably queued by quilld and by
# Debian's Postfix, side by side on this machine, with Postfix's
# smtp-source(1) as the load generator for both. Run by hand, as root
# (Postfix's master runs as root); never part of CTest or CI.
#
#   -m  messages per measurement (default 2000)
#   -l  message body bytes, smtp-source -l (default 4096)
#   -s  concurrent senders to measure (default "1 8 64"), smtp-source -s
#   -r  rounds; each figure is the median of the rounds (default 3)
#   -g  quilld queue.group_commit_ms (default: quilld's default)
#   -S  quilld queue.sync (default: quilld's default, syncfs)
#   -t  quilld limits.pool_threads (default: quilld's default)
#   -D  deliver too: time until every message is in alice's Maildir
#   -k  keep the work directory
#   QUILLD  the quilld to run (default build/gcc/server/quilld)
#
# By default both servers only queue: quilld runs with queue.hold (mail
# stays in queue/new, the runner delivers nothing); Postfix's private peer
# (scripts/peers/postfix.sh, delivery "hold") puts every message on its
# hold queue, which nothing delivers from. The time is smtp-source's, from
# the first connection to the last 250. Each 250 means, for quilld: the
# spool file and its rename into queue/new durable (group commit: with
# queue.sync syncfs, the default, one syncfs after the renames; with fsync,
# the file fsync'd, renamed, queue/new fsync'd); for Postfix: cleanup(8)
# fsync'd the queue file (Postfix never fsyncs a queue directory). After each run the queue is counted: a run
# whose queue does not hold every message counts as failed.
#
# With -D both also deliver, to alice's Maildir: quilld's queue runner
# (the store fsyncs the file and new/), Postfix's virtual(8) (fsyncs the
# file, not new/); the time runs until every message is in the Maildir.
#
# Environment: BENCH_DIR (default /var/tmp/quill-smtp-bench: a real disk,
# not tmpfs), QUILL_BENCH_PORT (quilld's SMTP port, default 4825),
# QUILL_PEERS_DIR (default /tmp/quill-peers-bench) and QUILL_PEER_*_PORT
# (defaults 47xx, see below) for the private Postfix.
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")

messages=2000
size=4096
senders="1 8 64"
rounds=3
group_ms=""
threads=""
keep=0
deliver=0
sync=""
usage() { sed -n '2,39s/^# \{0,1\}//p' "$0"; }
while getopts "m:l:s:r:g:S:t:Dkh" opt; do
	case $opt in
	m) messages=$OPTARG ;;
	l) size=$OPTARG ;;
	s) senders=$OPTARG ;;
	r) rounds=$OPTARG ;;
	g) group_ms=$OPTARG ;;
	S) sync=$OPTARG ;;
	t) threads=$OPTARG ;;
	D) deliver=1 ;;
	k) keep=1 ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
quilld=${1:-$src/build/gcc/server/quilld}

die() {
	echo "smtp_bench: $*" >&2
	exit 1
}
for v in "$messages" "$size" "$rounds" $senders ${group_ms:+"$group_ms"} \
	${threads:+"$threads"}; do
	[[ $v =~ ^[0-9]+$ ]] || die "not a number: '$v'"
done
case $sync in "" | syncfs | fsync) ;; *) die "-S takes syncfs or fsync" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root: Postfix's master must start as root"
[ -x "$quilld" ] || die "no quilld at $quilld (build it, or give its path)"
SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SOURCE" ] || die "smtp-source not found: scripts/peers/postfix.sh install"

export QUILL_PEERS_DIR=${QUILL_PEERS_DIR:-/tmp/quill-peers-bench}
export QUILL_PEER_SMTP_PORT=${QUILL_PEER_SMTP_PORT:-4725}
export QUILL_PEER_SUBMISSION_PORT=${QUILL_PEER_SUBMISSION_PORT:-4787}
export QUILL_PEER_SUBMISSIONS_PORT=${QUILL_PEER_SUBMISSIONS_PORT:-4765}
export QUILL_PEER_POP3_PORT=${QUILL_PEER_POP3_PORT:-4710}
export QUILL_PEER_POP3S_PORT=${QUILL_PEER_POP3S_PORT:-4795}
export QUILL_PEER_IMAP_PORT=${QUILL_PEER_IMAP_PORT:-4743}
export QUILL_PEER_IMAPS_PORT=${QUILL_PEER_IMAPS_PORT:-4793}
export QUILL_PEER_LMTP_PORT=${QUILL_PEER_LMTP_PORT:-4724}
export QUILL_PEER_SASL=none
if [ "$deliver" = 1 ]; then
	export QUILL_PEER_DELIVERY=virtual
else
	export QUILL_PEER_DELIVERY=hold
fi
PEER=$src/scripts/peers/postfix.sh
PF_QUEUE=$QUILL_PEERS_DIR/postfix/queue
PF_ETC=$QUILL_PEERS_DIR/postfix/etc
work=${BENCH_DIR:-/var/tmp/quill-smtp-bench}
qport=${QUILL_BENCH_PORT:-4825}
qpid=""

cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid"
		wait "$qpid" 2>/dev/null || true
	fi
	bash "$PEER" stop >/dev/null 2>&1 || true
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- quilld ---------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work"
fs=$(findmnt -no FSTYPE -T "$work" 2>/dev/null || stat -f -c %T "$work")
[ "$fs" != tmpfs ] || die "$work is on tmpfs, where fsync costs nothing"
{
	echo "state_dir: $work/var"
	echo "hostname: mx.bench.test"
	echo "listeners:"
	echo "  - { name: smtp, protocol: smtp, address: 127.0.0.1, port: $qport, tls: none }"
	if [ -n "$threads" ]; then printf 'limits:\n  pool_threads: %s\n' "$threads"; fi
	echo "queue:"
	echo "  hold: $([ "$deliver" = 0 ] && echo true || echo false)"
	if [ -n "$group_ms" ]; then echo "  group_commit_ms: $group_ms"; fi
	if [ -n "$sync" ]; then echo "  sync: $sync"; fi
} >"$work/quilld.yaml"
"$quilld" -c "$work/quilld.yaml" >"$work/quilld.out" 2>"$work/quilld.log" &
qpid=$!
for _ in $(seq 100); do
	grep -q '^quilld ready' "$work/quilld.out" 2>/dev/null && break
	kill -0 "$qpid" 2>/dev/null || die "quilld exited: $(tail -5 "$work/quilld.log")"
	sleep 0.1
done
grep -q '^quilld ready' "$work/quilld.out" || die "quilld did not start"
QNEW=$work/var/queue/new

# --- Postfix ----------------------------------------------------------------
bash "$PEER" install >/dev/null 2>&1 || die "cannot install Postfix"
bash "$PEER" restart >"$work/postfix.start" 2>&1 ||
	die "Postfix did not start: $(tail -5 "$work/postfix.start")"

# --- runs -------------------------------------------------------------------
QBOX=$work/var/mail/alice
PBOX=$QUILL_PEERS_DIR/mail/alice/Maildir

empty_queues() {
	find "$QNEW" "$QBOX" "$PBOX" -type f \( -path '*/new/*' -o -path '*/cur/*' \) \
		-delete 2>/dev/null || true
	/usr/sbin/postsuper -c "$PF_ETC" -d ALL >/dev/null 2>&1 || true
}

count_files() {
	find "$@" -type f 2>/dev/null | wc -l
}

# kept SERVER: messages queued (or, with -D, delivered)
kept() {
	case $1/$deliver in
	quilld/0) count_files "$QNEW" ;;
	postfix/0) count_files "$PF_QUEUE"/{incoming,active,hold,deferred} ;;
	quilld/1) count_files "$QBOX/new" "$QBOX/cur" ;;
	postfix/1) count_files "$PBOX/new" "$PBOX/cur" ;;
	esac
}

# one_run SERVER PORT SENDERS: prints msg/s, or FAIL
one_run() {
	local server=$1 port=$2 s=$3 t0 t1 n deadline
	empty_queues
	sync
	t0=$(date +%s.%N)
	if ! "$SOURCE" -s "$s" -m "$messages" -l "$size" -d \
		-f sender@bench.test -t alice@example.test -M client.bench.test \
		"127.0.0.1:$port" >"$work/source.out" 2>&1; then
		echo FAIL
		echo "smtp_bench: $server, $s senders: smtp-source: $(tail -2 "$work/source.out")" >&2
		return
	fi
	n=$(kept "$server")
	deadline=$((SECONDS + 300))
	while [ "$deliver" = 1 ] && [ "$n" -lt "$messages" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.02
		n=$(kept "$server")
	done
	t1=$(date +%s.%N)
	if [ "$n" -ne "$messages" ]; then
		echo FAIL
		echo "smtp_bench: $server, $s senders: $n of $messages kept" >&2
		return
	fi
	awk -v n="$messages" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -n | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

if [ "$deliver" = 1 ]; then
	echo "# quilld vs Postfix: SMTP messages/s accepted and delivered to a Maildir"
else
	echo "# quilld vs Postfix: SMTP messages/s accepted and durably queued"
fi
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs, $fs at $work;" \
	"load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$messages messages of $size body bytes per run, one recipient, one" \
	"connection per sender kept open (smtp-source -d); median of $rounds rounds"
echo "Postfix $(/usr/sbin/postconf -d -h mail_version), $("$quilld" --version 2>&1 | head -1)"
echo
echo "| senders | quilld msg/s | Postfix msg/s | quilld / Postfix | runs (quilld; Postfix) |"
echo "| ---: | ---: | ---: | ---: | --- |"
for s in $senders; do
	qs="" ps=""
	for r in $(seq "$rounds"); do
		# alternate who goes first, so drift in the machine's load
		# does not favour one side
		if [ $((r % 2)) -eq 1 ]; then
			qs="$qs $(one_run quilld "$qport" "$s")"
			ps="$ps $(one_run postfix "$QUILL_PEER_SMTP_PORT" "$s")"
		else
			ps="$ps $(one_run postfix "$QUILL_PEER_SMTP_PORT" "$s")"
			qs="$qs $(one_run quilld "$qport" "$s")"
		fi
	done
	qm=$(echo "$qs" | tr ' ' '\n' | grep -v FAIL | tr '\n' ' ' | median)
	pm=$(echo "$ps" | tr ' ' '\n' | grep -v FAIL | tr '\n' ' ' | median)
	ratio=$(awk -v q="$qm" -v p="$pm" 'BEGIN { if (q == "-" || p == "-" || p == 0) print "-"; else printf "%.2f", q / p }')
	echo "| $s | $qm | $pm | $ratio |${qs} ;${ps} |"
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ "$deliver" = 1 ]; then
	echo "Both deliver to alice's Maildir as the messages arrive; the time runs"
	echo "until the last one is there. quilld: spool fsync'd, renamed, queue/new"
	echo "fsync'd (group commit) before each 250, then the queue runner writes"
	echo "the Maildir file, fsyncs it and new/. Postfix: cleanup fsyncs the"
	echo "queue file before the 250, virtual(8) fsyncs the Maildir file (no"
	echo "directory fsync anywhere)."
else
	echo "Durable before each 250: quilld makes the spool file and its rename"
	echo "into queue/new durable by group commit (queue.group_commit_ms:"
	echo "${group_ms:-default}; queue.sync: ${sync:-default}: syncfs = the files"
	echo "sealed and renamed, then one syncfs per batch and a per-file"
	echo "write-error check; fsync = an fsync per file, then one of queue/new);"
	echo "Postfix (cleanup) fsyncs each queue file and never a queue directory. Nothing"
	echo "is delivered during the run: Postfix's messages go to its hold queue,"
	echo "quilld runs with queue.hold."
fi
echo "quilld limits.pool_threads: ${threads:-default}."
