#!/usr/bin/env python3
"""e2e_spool_crash.py - group commit keeps "250 means kept" across kills.

Several smtplib senders deliver at once to a quilld whose group commit
waits a little (queue.group_commit_ms), so replies share batches; quilld
is killed with SIGKILL at random moments and started again on the same
state directory, KILLS times. Afterwards:

 - every message that got 250 is kept exactly once, whole: in the queue
   under the id the 250 named, or delivered by the queue runner to
   alice's INBOX with that id in quilld's Received (RFC 5321 6.1: once
   the 250 is sent the server is responsible for the message);
 - every copy quilld holds is one of the messages sent, whole, at most
   once in the INBOX (one whose 250 the kill swallowed may be there or
   not, never cut short);
 - what a kill left in queue/tmp (never acknowledged) is gone after the
   start.

SIGKILL loses no page cache, so this checks the order of the steps
(nothing acknowledged before its rename) rather than the fsyncs; the
unit test server.test_spool_group checks that order call by call.
Python standard library only.
"""
import glob
import os
import random
import re
import signal
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import Quilld, run_cases  # noqa: E402

KILLS = 20
SENDERS = 6
SMTP_ONLY = [("smtp", "smtp", "127.0.0.1", "none")]


def message(tag):
    lines = [f"Subject: {tag}", f"Message-ID: <{tag}@crash.test>", ""]
    lines += [f"{tag} line {i} " + "x" * 60 for i in range(40)]
    return ("\r\n".join(lines) + "\r\n").encode()


class Senders:
    """Threads sending until stopped; acked: queue id -> tag."""

    def __init__(self, port):
        self.port = port
        self.acked = {}
        self.sent = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,))
                        for n in range(SENDERS)]

    def run(self, n):
        seq = 0
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    while not self.stop.is_set():
                        seq += 1
                        tag = f"s{n}-{seq}-{random.getrandbits(32):08x}"
                        with self.lock:
                            self.sent[tag] = message(tag)
                        s.ehlo("crash.test")
                        s.mail("sender@crash.test")
                        s.rcpt("alice@example.test")
                        code, reply = s.data(message(tag))
                        m = re.match(rb"2\.0\.0 OK queued as (\w+)", reply)
                        if code == 250 and m:
                            with self.lock:
                                self.acked[m.group(1).decode()] = tag
            except (OSError, smtplib.SMTPException):
                time.sleep(0.01)  # quilld is down: try again

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def restart(q):
    q.proc.stdout.close()
    q.log.close()
    q.start()


def kill(q):
    q.proc.send_signal(signal.SIGKILL)
    q.proc.wait(timeout=20)


def spool_body(path):
    with open(path, "rb") as f:
        data = f.read()
    head, sep, body = data.partition(b"\n\n")
    assert sep and head.startswith(b"QUILL-SPOOL 1\n"), (path, data[:200])
    return head.decode(), body


def copies_of(q, new):
    """tag -> [(where, path, message)] for every copy quilld holds: in the
    queue (queue/new) or delivered to alice's INBOX (Maildir)."""
    out = {}
    for path in glob.glob(os.path.join(new, "*")):
        try:
            head, body = spool_body(path)
        except FileNotFoundError:
            continue  # delivered meanwhile: found in the INBOX below
        assert "\nrcpt <alice@example.test>\n" in head + "\n", head
        out.setdefault(tag_of(path, body), []).append(("queue", path, body))
    inbox = os.path.join(q.state, "mail", "alice")
    for path in glob.glob(os.path.join(inbox, "new", "*")) + \
            glob.glob(os.path.join(inbox, "cur", "*")):
        with open(path, "rb") as f:
            body = f.read()
        out.setdefault(tag_of(path, body), []).append(("inbox", path, body))
    return out


def tag_of(path, body):
    m = re.search(rb"^Subject: (\S+)\r\n", body, re.M)
    assert m, (path, body[:300])
    return m.group(1).decode()


def test_kills_lose_no_acknowledged_message():
    q = Quilld(extra_yaml="queue:\n  group_commit_ms: 3\n",
               listeners=SMTP_ONLY)
    try:
        tmp = os.path.join(q.state, "queue", "tmp")
        new = os.path.join(q.state, "queue", "new")
        leftovers = 0
        with Senders(q.ports["smtp"]) as senders:
            for _ in range(KILLS):
                time.sleep(random.uniform(0.05, 0.4))
                kill(q)
                left = set(os.listdir(tmp))
                restart(q)
                assert not left & set(os.listdir(tmp)), left
                leftovers += len(left)
            time.sleep(0.3)
        assert len(senders.acked) >= KILLS, len(senders.acked)
        # the queue runner delivers meanwhile: a message may be queued,
        # delivered, or both for a moment (delivered, its queue file not
        # yet removed), but never twice in the INBOX
        copies = copies_of(q, new)
        for qid, tag in senders.acked.items():
            assert tag in copies, f"250 for {qid} ({tag}) but lost"
        for tag, found in copies.items():
            places = sorted(where for where, _, _ in found)
            assert places in (["queue"], ["inbox"], ["inbox", "queue"]), \
                (tag, [p for _, p, _ in found])
            for where, path, body in found:
                assert body.endswith(senders.sent[tag]), (path, body[-200:])
        for qid, tag in senders.acked.items():
            for where, path, body in copies[tag]:
                if where == "queue":
                    assert os.path.basename(path) == qid, (qid, path)
                else:
                    assert f" id {qid}\r\n".encode() in body, \
                        (qid, body[:400])
        queued = sum(1 for c in copies.values()
                     if any(w == "queue" for w, _, _ in c))
        print(f"     {len(senders.sent)} sent, {len(senders.acked)} "
              f"acknowledged, {len(copies)} kept ({queued} still queued), "
              f"{KILLS} kills, {leftovers} tmp files removed at starts")
    finally:
        q.stop()


if __name__ == "__main__":
    run_cases([test_kills_lose_no_acknowledged_message])
