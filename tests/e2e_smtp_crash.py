"""e2e_smtp_crash.py - quilld killed with SIGKILL at random moments while
several senders deliver mail, restarted each time (at least 200 kills).

Each message has a unique Message-ID and an X-Check header holding the
SHA-256 of its body. A sender notes for every message whether it got the
250 after the final dot ("acked"), sent the dot and got no 250 ("lost":
quilld died first, or refused it), or never sent the dot. After the last
kill, a final quilld drains the queue and stops; then the Maildirs are
read directly and it must hold that:

  - every acked message is in each of its recipients' mailboxes exactly
    once (DESIGN.md: nothing acknowledged is lost or delivered twice);
  - a lost message is there at most once (RFC 5321 6.1 allows a
    duplicate only when the client retries; these senders never do);
  - a message whose dot was never sent is nowhere;
  - every stored message is one that was sent, intact: its bytes after
    the Return-Path, Delivered-To and Received lines are exactly the
    bytes sent, and the X-Check checksum matches;
  - the queue is empty.

Bounded: about two minutes on two cores. Environment: QUILL_CRASH_KILLS
(default 210), QUILL_CRASH_STORE (maildir or mbox; default maildir).
"""
import hashlib
import os
import random
import re
import signal
import smtplib
import sys
import threading
import time

from quilltest import Quilld, run_cases

KILLS = int(os.environ.get("QUILL_CRASH_KILLS", "210"))
STORE = os.environ.get("QUILL_CRASH_STORE", "maildir")
SENDERS = 4
KILL_PHASE_MAX = 140  # seconds
HELO = "crash.example.test"
USERS = ("alice", "bob")

Q = None
lock = threading.Lock()
messages = {}  # message-id -> dict(state, rcpts, data)
stop = threading.Event()
rng = random.Random(int(os.environ.get("QUILL_CRASH_SEED",
                                       str(int(time.time())))))


def make_message(n):
    mid = f"<{n}.{rng.getrandbits(64):016x}@crash.example.test>"
    lines = []
    size = rng.choice((1, 5, 20, 60)) if rng.random() < 0.95 else 1200
    for i in range(rng.randint(1, size)):
        line = "".join(rng.choice("abcdefghij .,;-") for _ in
                       range(rng.randint(0, 76)))
        if rng.random() < 0.05:
            line = "." + line  # needs dot-stuffing on the wire
        lines.append(line)
    body = ("\r\n".join(lines) + "\r\n").encode()
    rcpts = rng.choice((["alice@example.test"], ["bob@example.test"],
                        ["alice@example.test", "bob@example.test"]))
    head = (f"From: <sender@crash.example.test>\r\n"
            f"To: {', '.join('<' + r + '>' for r in rcpts)}\r\n"
            f"Subject: crash {n}\r\nMessage-ID: {mid}\r\n"
            f"X-Check: {hashlib.sha256(body).hexdigest()}\r\n\r\n")
    return mid, rcpts, head.encode() + body


def send_some(c, ident):
    """One connection: a few transactions, one message each."""
    c.ehlo()
    for _ in range(rng.randint(1, 6)):
        if stop.is_set():
            return
        time.sleep(rng.uniform(0.01, 0.05))  # below delivery capacity
        with lock:
            n = len(messages)
            mid, rcpts, data = make_message(n)
            messages[mid] = {"state": "unsent", "rcpts": rcpts,
                             "data": data}
        code, _ = c.mail("sender@crash.example.test")
        if code != 250:
            return
        for r in rcpts:
            if c.rcpt(r)[0] != 250:
                return
        if c.docmd("DATA")[0] != 354:
            return
        with lock:
            messages[mid]["state"] = "lost"  # the dot may arrive
        # RFC 5321 4.5.2: a leading dot doubled; data ends in CRLF
        c.send(re.sub(rb"(?m)^\.", b"..", data) + b".\r\n")
        code, _ = c.getreply()
        if code == 250:
            with lock:
                messages[mid]["state"] = "acked"


def sender(ident):
    while not stop.is_set():
        try:
            c = smtplib.SMTP("127.0.0.1", Q.ports["smtp"],
                             local_hostname=HELO, timeout=10)
        except OSError:
            time.sleep(0.01)
            continue
        try:
            send_some(c, ident)
            c.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            c.close()


def kill_and_restart(q):
    q.proc.send_signal(signal.SIGKILL)
    q.proc.wait()
    q.proc.stdout.close()
    q.log.close()
    q.start()


def mailbox(user):
    """(message-id, bytes) of every message in user's INBOX."""
    root = os.path.join(Q.state, "mail", user)
    out = []
    if STORE == "mbox":
        path = os.path.join(root, "inbox")
        data = open(path, "rb").read() if os.path.exists(path) else b""
        # mboxrd: "From " lines start messages; quoted ">From " lines
        # lose one ">"; the empty line before the next From_ is ours
        for part in re.split(rb"(?:^|\n)From [^\n]*\n", data)[1:]:
            part = re.sub(rb"(?m)^>(>*From )", rb"\1", part)
            if part.endswith(b"\n\n"):
                part = part[:-1]
            out.append(part)
    else:
        for sub in ("new", "cur"):
            d = os.path.join(root, sub)
            for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                with open(os.path.join(d, name), "rb") as f:
                    out.append(f.read())
    result = []
    for m in out:
        found = re.search(rb"^Message-ID: (<[^>\r\n]+>)\r$", m, re.M)
        result.append((found.group(1).decode() if found else None, m))
    return result


def check_intact(user, mid, stored, sent):
    """Return-Path, Delivered-To, our Received, then the bytes sent."""
    head = (f"Return-Path: <sender@crash.example.test>\r\n"
            f"Delivered-To: {user}@example.test\r\n"
            f"Received: from {HELO} ([127.0.0.1])\r\n").encode()
    assert stored.startswith(head), (user, mid, stored[:200])
    rest = stored[len(head):]
    m = re.match(rb"(?:[ \t][^\r\n]*\r\n)+", rest)
    assert m is not None, (user, mid, rest[:200])
    body = rest[m.end():]
    assert body == sent, (user, mid, len(body), len(sent))
    hdr, _, text = body.partition(b"\r\n\r\n")
    check = re.search(rb"^X-Check: ([0-9a-f]{64})\r?$", hdr, re.M)
    assert check and check.group(1).decode() == \
        hashlib.sha256(text).hexdigest(), (user, mid)


def test_sigkill_while_sending():
    threads = [threading.Thread(target=sender, args=(i,), daemon=True)
               for i in range(SENDERS)]
    for t in threads:
        t.start()
    kills, t0 = 0, time.time()
    while kills < KILLS and time.time() - t0 < KILL_PHASE_MAX:
        time.sleep(rng.uniform(0.02, 0.3))
        kill_and_restart(Q)
        kills += 1
    stop.set()
    for t in threads:
        t.join(30)
    kill_phase = time.time() - t0
    backlog = len(os.listdir(os.path.join(Q.state, "queue", "new")))
    # the last quilld drains the queue, then stops cleanly
    queue = os.path.join(Q.state, "queue", "new")
    deadline = time.time() + 60
    while os.listdir(queue) and time.time() < deadline:
        time.sleep(0.1)
    left = os.listdir(queue)
    drain = time.time() - t0 - kill_phase
    Q.signal(signal.SIGTERM)
    Q.proc.wait(30)

    with lock:
        sent = dict(messages)
    counts = {s: sum(1 for m in sent.values() if m["state"] == s)
              for s in ("acked", "lost", "unsent")}
    stored = {u: mailbox(u) for u in USERS}
    copies = {u: {} for u in USERS}
    for u in USERS:
        for mid, data in stored[u]:
            assert mid in sent, (u, mid, data[:300])
            copies[u][mid] = copies[u].get(mid, 0) + 1
            check_intact(u, mid, data, sent[mid]["data"])
    lost_delivered = 0
    for mid, m in sent.items():
        for r in m["rcpts"]:
            u = r.split("@")[0]
            n = copies[u].get(mid, 0)
            if m["state"] == "acked":
                assert n == 1, (mid, u, n)
            elif m["state"] == "lost":
                assert n <= 1, (mid, u, n)
                lost_delivered += n
            else:
                assert n == 0, (mid, u, n)
    print(f"    store {STORE}: {kills} kills in {kill_phase:.0f}s, queue "
          f"({backlog} queued) drained in {drain:.0f}s, checked in "
          f"{time.time() - t0 - kill_phase - drain:.0f}s; "
          f"{len(sent)} messages: {counts['acked']} acknowledged (each "
          f"delivered once), {counts['lost']} with the 250 lost "
          f"({lost_delivered} copies delivered), {counts['unsent']} "
          f"never sent; {sum(len(v) for v in stored.values())} "
          f"copies in the mailboxes; queue left: {len(left)}")
    sys.stdout.flush()
    assert kills >= 200, kills
    assert counts["acked"] >= 200, counts
    assert left == [], left


if __name__ == "__main__":
    Q = Quilld(listeners=[("smtp", "smtp", "127.0.0.1", "none")],
               extra_yaml=f"users:\n  store: {STORE}\n"
                          "queue:\n  retry_min: 1\n  retry_max: 2\n")
    try:
        run_cases([test_sigkill_while_sending])
    finally:
        Q.stop()
