#!/usr/bin/env python3
"""e2e_queue_hold.py - queue.hold: mail is accepted and kept, not delivered.

With `queue: { hold: true }` quilld still answers 250 only once the
message is committed to queue/new, but its queue runner delivers nothing
(bench/smtp_bench.sh uses this to compare queuing alone with Postfix's
hold queue). Started again without hold, quilld finds the message at
start-up and delivers it to the INBOX. Python standard library only.
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


if __name__ == "__main__":
    run_cases([test_hold_keeps_then_delivers_after_restart])
