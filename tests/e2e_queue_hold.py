#!/usr/bin/env python3
"""e2e_queue_hold.py - queue.hold: mail is accepted and kept, not delivered.

With `queue: { hold: true }` quilld still answers 250 only once the
message is committed to queue/new, but its queue runner delivers nothing
(bench/smtp_bench.sh uses this to compare queuing alone with Postfix's
hold queue). Started again without hold, quilld finds the message at
start-up and delivers it to the INBOX; a spool file that fails its seal
is set aside instead. Also: the AUTH= submitter
(RFC 4954 5) each kind of session leaves in the spool file. Python
standard library only.
"""
import glob
import os
import signal
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import Quilld, run_cases  # noqa: E402

SMTP_ONLY = [("smtp", "smtp", "127.0.0.1", "none")]
BODY = b"Subject: held\r\n\r\nkept, not delivered\r\n"


def inbox(q):
    root = os.path.join(q.state, "mail", "alice")
    return glob.glob(os.path.join(root, "new", "*")) + \
        glob.glob(os.path.join(root, "cur", "*"))


def test_hold_keeps_then_delivers_after_restart():
    q = Quilld(extra_yaml="queue:\n  hold: true\n", listeners=SMTP_ONLY)
    try:
        with smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=10) as s:
            refused = s.sendmail("a@client.test", ["alice@example.test"],
                                 BODY)
        assert refused == {}, refused
        queued = glob.glob(os.path.join(q.state, "queue", "new", "*"))
        assert len(queued) == 1, queued
        assert "queue.hold delivery=off" in q.read_log(), q.read_log()
        time.sleep(1)  # the runner would have delivered by now
        assert inbox(q) == [], inbox(q)
        assert os.path.exists(queued[0]), queued
        # again without hold: the start-up scan delivers it
        q.signal(signal.SIGTERM)
        q.proc.wait(timeout=20)
        q.proc.stdout.close()
        q.log.close()
        with open(q.config) as f:
            text = f.read().replace("queue:\n  hold: true\n", "")
        with open(q.config, "w") as f:
            f.write(text)
        q.start()
        deadline = time.time() + 30
        while not inbox(q) and time.time() < deadline:
            time.sleep(0.1)
        found = inbox(q)
        assert len(found) == 1, (found, q.read_log()[-2000:])
        with open(found[0], "rb") as f:
            assert f.read().endswith(BODY)
    finally:
        q.stop()


def restart_without_hold(q):
    q.signal(signal.SIGTERM)
    q.proc.wait(timeout=20)
    q.proc.stdout.close()
    q.log.close()
    with open(q.config) as f:
        text = f.read().replace("queue:\n  hold: true\n", "")
    with open(q.config, "w") as f:
        f.write(text)
    q.start()


def test_torn_spool_file_set_aside():
    """A spool file in new/ whose bytes do not match its seal (what a
    machine crash before the commit's flush can leave: spool_seal.h) is
    moved to queue/torn/, never delivered; the good one beside it is."""
    q = Quilld(extra_yaml="queue:\n  hold: true\n", listeners=SMTP_ONLY)
    try:
        with smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=10) as s:
            s.sendmail("a@client.test", ["alice@example.test"], BODY)
            s.sendmail("a@client.test", ["alice@example.test"],
                       BODY.replace(b"held", b"torn"))
        queued = sorted(glob.glob(os.path.join(q.state, "queue", "new",
                                               "*")))
        assert len(queued) == 2, queued
        torn = None
        for path in queued:
            with open(path, "rb") as f:
                data = f.read()
            assert b"\nseal " in data.split(b"\n\n", 1)[0], data
            if b"Subject: torn" in data:
                torn = path
                with open(path, "r+b") as f:  # only a prefix reached disk
                    f.truncate(len(data) - 10)
        assert torn is not None
        restart_without_hold(q)
        deadline = time.time() + 30
        while len(inbox(q)) < 1 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        found = inbox(q)
        assert len(found) == 1, (found, q.read_log()[-2000:])
        with open(found[0], "rb") as f:
            assert f.read().endswith(BODY)
        moved = os.path.join(q.state, "queue", "torn",
                             os.path.basename(torn))
        assert os.path.exists(moved), q.read_log()[-2000:]
        assert not os.path.exists(torn)
        assert "queue.torn" in q.read_log(), q.read_log()[-2000:]
    finally:
        q.stop()


def spool_lines(q):
    files = glob.glob(os.path.join(q.state, "queue", "new", "*"))
    assert len(files) == 1, files
    with open(files[0], "rb") as f:
        head = f.read().split(b"\n\n", 1)[0]
    os.unlink(files[0])
    return head.decode().split("\n")


def test_auth_from_kept_in_spool():
    """RFC 4954 5: the AUTH= submitter the spool keeps for relaying."""
    listeners = SMTP_ONLY + [("submission", "submission", "127.0.0.1",
                              "none")]
    q = Quilld(extra_yaml="queue:\n  hold: true\n"
               "auth:\n  plaintext_without_tls: true\n  smtp_listeners: true\n",
               listeners=listeners)
    try:
        # port 25 style (AUTH offered), no login: a claimed submitter
        # becomes <>
        with smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=10) as s:
            s.sendmail("a@client.test", ["alice@example.test"], BODY,
                       mail_options=["AUTH=a@client.test"])
        lines = spool_lines(q)
        assert "auth-from <>" in lines, lines
        with smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=10) as s:
            s.sendmail("a@client.test", ["alice@example.test"], BODY)
        lines = spool_lines(q)
        assert not any(x.startswith("auth-from") for x in lines), lines
        # logged in: no AUTH= means the login; another's address means <>
        sub = q.ports["submission"]
        for opts, want in (([], "auth-from <alice@example.test>"),
                           (["AUTH=bob@example.test"], "auth-from <>"),
                           (["AUTH=alice@example.test"],
                            "auth-from <alice@example.test>")):
            with smtplib.SMTP("127.0.0.1", sub, timeout=10) as s:
                s.login("alice", "wonderland")
                s.sendmail("alice@example.test", ["bob@example.test"], BODY,
                           mail_options=opts)
            lines = spool_lines(q)
            assert want in lines, (opts, lines)
    finally:
        q.stop()


if __name__ == "__main__":
    run_cases([test_hold_keeps_then_delivers_after_restart,
               test_torn_spool_file_set_aside,
               test_auth_from_kept_in_spool])
