"""e2e_delivery.py - mail reaches the mailboxes: over LMTP (RFC 2033,
python3 smtplib.LMTP and a raw client for several recipients), and over
SMTP through the queue (python3 smtplib); the delivered bytes are read
back from the Maildir: Return-Path (RFC 5321 4.4) and Delivered-To
(RFC 9228) on top, then quilld's Received header, then the message
exactly as sent. A temporary store failure is a 451 for that recipient
only (LMTP) or a deferral that the queue retries (SMTP).
"""
import glob
import os
import re
import smtplib
import socket
import time

from quilltest import Quilld, run_cases

Q = None
HELO = "client.example.test"


class Replies:
    """Read SMTP/LMTP replies one at a time off a socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def next(self, timeout=20):
        self.sock.settimeout(timeout)
        while True:
            m = re.search(rb"^(\d{3}) [^\r\n]*\r\n", self.buf, re.M)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out.decode()
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed after {self.buf!r}")
            self.buf += chunk


def maildir_messages(user):
    """The messages in user's INBOX (new/ and cur/), oldest first."""
    root = os.path.join(Q.state, "mail", user)
    files = glob.glob(os.path.join(root, "new", "*")) + \
        glob.glob(os.path.join(root, "cur", "*"))
    files.sort(key=lambda p: os.path.basename(p))
    out = []
    for p in files:
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def find_message(user, marker):
    found = [m for m in maildir_messages(user) if marker in m]
    return found


def check_delivered(msg, sender, rcpt, body, proto):
    """Return-Path, Delivered-To, Received (ours), then body exactly."""
    head = (f"Return-Path: <{sender}>\r\nDelivered-To: {rcpt}\r\n"
            f"Received: from {HELO} ([127.0.0.1])\r\n"
            f"\tby mx.example.test (Quill) with {proto} id ").encode()
    assert msg.startswith(head), msg[:300]
    rest = msg[len(head):]
    # the rest of the (folded) Received header, then the message
    m = re.match(rb"[^\r\n]*(?:\r\n[ \t][^\r\n]*)*\r\n", rest)
    after = rest[m.end():]
    assert after == body, (after, body)


def lmtp_session():
    s = socket.create_connection(("127.0.0.1", Q.ports["lmtp"]), 10)
    r = Replies(s)
    assert r.next().startswith("220 mx.example.test LMTP")
    s.sendall(f"LHLO {HELO}\r\n".encode())
    lhlo = r.next()
    assert "250-PIPELINING" in lhlo and "ENHANCEDSTATUSCODES" in lhlo, lhlo
    return s, r


def test_lmtp_smtplib_one_recipient():
    body = (f"From: a@b.example\r\nSubject: smtplib lmtp {time.time()}\r\n"
            "\r\nhello over LMTP\r\n.dot line\r\n").encode()
    with smtplib.LMTP("127.0.0.1", Q.ports["lmtp"],
                      local_hostname=HELO, timeout=10) as c:
        code, _ = c.ehlo()  # smtplib.LMTP sends LHLO
        assert code == 250
        refused = c.sendmail("a@b.example", ["alice@example.test"], body)
        assert refused == {}, refused
    msgs = find_message("alice", b"hello over LMTP")
    assert len(msgs) == 1, len(msgs)
    check_delivered(msgs[0], "a@b.example", "alice@example.test", body,
                    "LMTP")


def test_lmtp_two_recipients_one_failing():
    """RFC 2033 4.2: one reply per accepted RCPT in order; bob's store
    cannot be opened (a file where his mail root should be): 451 for him
    only, alice gets the message."""
    marker = f"two-{time.time()}".encode()
    body = b"Subject: " + marker + b"\r\n\r\nfor alice and bob\r\n"
    bob_root = os.path.join(Q.state, "mail", "bob")
    moved = bob_root + ".away"
    had = os.path.exists(bob_root)
    if had:
        os.rename(bob_root, moved)
    with open(bob_root, "w") as f:
        f.write("not a directory\n")
    try:
        s, r = lmtp_session()
        s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n"
                  b"RCPT TO:<nobody@example.test>\r\n"
                  b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
        assert r.next().startswith("250 ")
        assert r.next().startswith("250 2.1.5")
        assert r.next().startswith("550 5.1.1")
        assert r.next().startswith("250 2.1.5")
        assert r.next().startswith("354 ")
        s.sendall(body + b".\r\n")
        assert r.next() == "250 2.1.5 <alice@example.test> Delivered\r\n"
        rep = r.next()
        assert rep.startswith("451 4.3.0 <bob@example.test> "), rep
        assert str(Q.state) not in rep, rep  # no paths to the client
        s.sendall(b"QUIT\r\n")
        assert r.next().startswith("221 ")
        s.close()
    finally:
        os.unlink(bob_root)
        if had:
            os.rename(moved, bob_root)
    msgs = find_message("alice", marker)
    assert len(msgs) == 1, len(msgs)
    check_delivered(msgs[0], "", "alice@example.test", body, "LMTP")
    # nothing of the message stays behind in the queue
    assert os.listdir(os.path.join(Q.state, "queue", "tmp")) == []


def test_lmtp_two_recipients_delivered():
    marker = f"both-{time.time()}".encode()
    body = b"Subject: " + marker + b"\r\n\r\n..stuffed\r\nend\r\n"
    wire = body.replace(b"\r\n..", b"\r\n...")
    s, r = lmtp_session()
    s.sendall(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.test>\r\n"
              b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
    for _ in range(3):
        assert r.next().startswith("250 ")
    assert r.next().startswith("354 ")
    s.sendall(wire + b".\r\n")
    assert r.next() == "250 2.1.5 <alice@example.test> Delivered\r\n"
    assert r.next() == "250 2.1.5 <bob@example.test> Delivered\r\n"
    s.close()
    for user in ("alice", "bob"):
        msgs = find_message(user, marker)
        assert len(msgs) == 1, (user, len(msgs))
        check_delivered(msgs[0], "a@b.example", f"{user}@example.test",
                        body, "LMTP")


if __name__ == "__main__":
    Q = Quilld(listeners=[("smtp", "smtp", "127.0.0.1", "starttls"),
                          ("lmtp", "lmtp", "127.0.0.1", "none")],
               extra_yaml="queue:\n  retry_min: 1\n  retry_max: 2\n")
    try:
        run_cases([test_lmtp_smtplib_one_recipient,
                   test_lmtp_two_recipients_delivered,
                   test_lmtp_two_recipients_one_failing])
    finally:
        Q.stop()
