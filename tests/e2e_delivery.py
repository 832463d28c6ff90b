"""e2e_delivery.py - mail reaches the mailboxes: over LMTP (RFC 2033,
python3 smtplib.LMTP and a raw client for several recipients), and over
SMTP through the queue (python3 smtplib); the delivered bytes are read
back from the Maildir: Return-Path (RFC 5321 4.4) and Delivered-To
(RFC 9228) on top, then quilld's Received header, then the message
exactly as sent. A temporary store failure is a 451 for that recipient
only (LMTP) or a deferral that the queue retries (SMTP), shown by
`quill queue`; a restart finds what was delivered before the crash.
"""
import glob
import os
import re
import signal
import smtplib
import socket
import subprocess
import time

from quilltest import QUILL, Quilld, run_cases

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


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n"
                         f"{Q.read_log()[-3000:]}")


def queued():
    return os.listdir(os.path.join(Q.state, "queue", "new"))


def quill_queue(*args):
    r = subprocess.run([QUILL, "queue", *args, "--state-dir", Q.state],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def smtp_send(sender, rcpts, body):
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as c:
        c.ehlo()
        c.mail(sender)
        for r in rcpts:
            assert c.rcpt(r)[0] == 250, r
        code, reply = c.data(body)
        assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def test_smtp_to_maildir():
    """smtplib -> quilld SMTP -> queue -> Maildir: Return-Path is the
    envelope MAIL FROM (RFC 5321 4.4), Delivered-To the recipient, then
    our Received header naming the queue id, then the message as sent."""
    marker = f"smtp-{time.time()}".encode()
    body = (b"From: Carol <carol@c.example>\r\nSubject: " + marker +
            b"\r\n\r\nline one\r\n.leading dot\r\n\r\nlast\r\n")
    qid = smtp_send("carol@c.example", ["alice@example.test",
                                        "bob@example.test"], body)
    wait_for(lambda: find_message("alice", marker) and
             find_message("bob", marker) and qid not in queued(),
             "delivery to alice and bob")
    for user in ("alice", "bob"):
        msgs = find_message(user, marker)
        assert len(msgs) == 1, (user, len(msgs))
        check_delivered(msgs[0], "carol@c.example", f"{user}@example.test",
                        body, "ESMTP")
        assert f"ESMTP id {qid}".encode() in msgs[0], msgs[0][:300]
    # logged on the loop once the job is back from the pool
    wait_for(lambda: f"{qid} queue.removed" in Q.read_log(), "the log")
    assert f"{qid} queue.delivered to=<alice@example.test>" in Q.read_log()


def test_forged_return_path_removed():
    """RFC 5321 4.4: the delivered message has one Return-Path, the one
    final delivery adds; the sender's own is not kept (a Return-Path
    line in the body is not a header field and stays)."""
    marker = f"forged-{time.time()}".encode()
    body = (b"Return-Path: <forged@evil.example>\r\nSubject: " + marker +
            b"\r\nRETURN-PATH:\r\n\t<folded@evil.example>\r\n\r\n"
            b"Return-Path: <in-the-body@example.test>\r\n")
    smtp_send("real@c.example", ["alice@example.test"], body)
    wait_for(lambda: find_message("alice", marker), "delivery")
    msg = find_message("alice", marker)[0]
    head = msg.split(b"\r\n\r\n", 1)[0]
    fields = re.findall(rb"(?im)^return-path\s*:", head)
    assert len(fields) == 1, head
    assert head.startswith(b"Return-Path: <real@c.example>\r\n"), head
    assert b"evil.example" not in msg, msg
    assert msg.endswith(b"\r\n\r\nReturn-Path: <in-the-body@example.test>"
                        b"\r\n"), msg


def test_deferred_then_delivered_and_quill_queue():
    """bob's store fails for now: alice gets it at once, bob's delivery
    is deferred (quill queue shows it) and retried until it works."""
    marker = f"defer-{time.time()}".encode()
    body = b"Subject: " + marker + b"\r\n\r\nlater for bob\r\n"
    bob_root = os.path.join(Q.state, "mail", "bob")
    moved = bob_root + ".away"
    os.rename(bob_root, moved)
    with open(bob_root, "w") as f:
        f.write("not a directory\n")
    try:
        qid = smtp_send("", ["alice@example.test", "bob@example.test"], body)
        state = os.path.join(Q.state, "queue", "state", qid)
        wait_for(lambda: os.path.exists(state) and
                 b"defer 1 " in open(state, "rb").read(), "a deferral")
        out = quill_queue("list")
        row = [l for l in out.splitlines() if l.startswith(qid)]
        assert len(row) == 1, out
        cols = row[0].split("\t")
        assert cols[3] == "<>", cols
        assert cols[4] == ("alice@example.test=done "
                           "bob@example.test=deferred"), cols
        assert out.rstrip().endswith("1 message"), out
        show = quill_queue("show", qid)
        assert f"id: {qid}\n" in show and "from: <>\n" in show, show
        assert re.search(r"bob@example.test  deferred  at \S+  attempts "
                         r"\d+, next ", show), show
        assert "451 4.3.0 Mailbox temporarily unavailable" in show, show
    finally:
        os.unlink(bob_root)
        os.rename(moved, bob_root)
    wait_for(lambda: qid not in queued(), "the retry")
    assert len(find_message("alice", marker)) == 1
    assert len(find_message("bob", marker)) == 1
    assert quill_queue("list").splitlines()[-1] == "0 messages"


def kill_quilld():
    Q.proc.send_signal(signal.SIGKILL)
    Q.proc.wait()
    Q.proc.stdout.close()
    Q.log.close()


def queue_deferred_for_bob(marker):
    """Send to alice and bob with bob's store broken: returns the queue
    id once alice has it and bob's delivery is deferred."""
    body = b"Subject: " + marker + b"\r\n\r\nacross a restart\r\n"
    bob_root = os.path.join(Q.state, "mail", "bob")
    os.rename(bob_root, bob_root + ".away")
    with open(bob_root, "w") as f:
        f.write("not a directory\n")
    qid = smtp_send("dave@d.example", ["alice@example.test",
                                       "bob@example.test"], body)
    state = os.path.join(Q.state, "queue", "state", qid)
    wait_for(lambda: b"defer 1 " in open(state, "rb").read()
             if os.path.exists(state) else False, "a deferral")
    return qid, state


def mend_bob():
    bob_root = os.path.join(Q.state, "mail", "bob")
    os.unlink(bob_root)
    os.rename(bob_root + ".away", bob_root)


def test_restart_delivers_exactly_once():
    """Killed in the middle of delivering (the "try" records written,
    alice's copy stored, the outcomes not): after the restart the runner
    looks for what is already there, so alice does not get it twice and
    bob gets it once."""
    marker = f"restart-{time.time()}".encode()
    qid, state = queue_deferred_for_bob(marker)
    kill_quilld()
    # as if killed between the deliveries and writing their outcomes
    with open(state, "w") as f:
        f.write(f"try 0 {int(time.time())}\ntry 1 {int(time.time())}\n")
    mend_bob()
    before = os.path.getsize(Q.log_path)
    Q.start()
    assert "records_trusted=1" in Q.read_log()[before:]
    wait_for(lambda: f"{qid} queue.removed" in Q.read_log()[before:],
             "delivery after the restart")
    assert len(find_message("alice", marker)) == 1
    assert len(find_message("bob", marker)) == 1
    log = Q.read_log()[before:]
    assert f"{qid} queue.delivered to=<alice@example.test> user=alice " \
        "already=1" in log, log


def test_reboot_checks_everything():
    """After a reboot (another boot id in queue/boot-id) records written
    without fsync may be lost: every recipient not done is looked for
    first; a delivery whose record is gone is found, not repeated."""
    marker = f"reboot-{time.time()}".encode()
    qid, state = queue_deferred_for_bob(marker)
    kill_quilld()
    with open(state, "w") as f:
        f.write("")  # lost with the page cache
    with open(os.path.join(Q.state, "queue", "boot-id"), "w") as f:
        f.write("00000000-0000-0000-0000-000000000000\n")
    mend_bob()
    before = os.path.getsize(Q.log_path)
    Q.start()
    wait_for(lambda: f"{qid} queue.removed" in Q.read_log()[before:],
             "delivery after the reboot")
    assert len(find_message("alice", marker)) == 1
    assert len(find_message("bob", marker)) == 1
    log = Q.read_log()[before:]
    assert "queue.scan queued=1 new=1 tidied=0 records_trusted=0" in log, \
        log
    assert f"{qid} queue.delivered to=<alice@example.test> user=alice " \
        "already=1" in log, log
    wait_for(lambda: "queue.records_trusted" in Q.read_log()[before:],
             "boot-id rewritten")


if __name__ == "__main__":
    Q = Quilld(listeners=[("smtp", "smtp", "127.0.0.1", "starttls"),
                          ("lmtp", "lmtp", "127.0.0.1", "none")],
               extra_yaml="queue:\n  retry_min: 1\n  retry_max: 2\n")
    try:
        run_cases([test_lmtp_smtplib_one_recipient,
                   test_lmtp_two_recipients_delivered,
                   test_lmtp_two_recipients_one_failing,
                   test_smtp_to_maildir,
                   test_forged_return_path_removed,
                   test_deferred_then_delivered_and_quill_queue,
                   test_restart_delivers_exactly_once,
                   test_reboot_checks_everything])
    finally:
        Q.stop()
