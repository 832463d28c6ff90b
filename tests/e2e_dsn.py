#!/usr/bin/env python3
"""e2e_dsn.py - delivery status notifications (RFC 3464, RFC 3461 5-6).

Mail is sent with python3 smtplib and the DSN parameters of RFC 3461
(RET, ENVID, NOTIFY, ORCPT); a recipient is made to fail for good after
acceptance the way it happens on a real host: the user is removed from
the passwd-file (and quilld reloaded with SIGHUP) while the message
waits for a retry, or the user's mailbox stays broken past queue.max_age.
The notice is read from the sender's Maildir and parsed with python's
email package (an independent oracle): multipart/report with
report-type=delivery-status, a text part, message/delivery-status with
the per-message and per-recipient fields, then the message
(message/rfc822) or its header (text/rfc822-headers). NOTIFY=NEVER and
the null reverse-path get no notice; NOTIFY=SUCCESS gets a "delivered"
one; NOTIFY=DELAY a "delayed" one after queue.delay_warning. And
exactly once: quilld is killed (SIGKILL) 150 times while messages with
NOTIFY=SUCCESS are delivered and their notices made; every acknowledged
message then has exactly one notice.
"""
import email
import email.policy
import glob
import os
import random
import signal
import smtplib
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import Quilld  # noqa: E402

SMTP_ONLY = [("smtp", "smtp", "127.0.0.1", "none")]


def inbox(q, user):
    """The messages in user's Maildir INBOX."""
    root = os.path.join(q.state, "mail", user)
    out = []
    for p in sorted(glob.glob(os.path.join(root, "new", "*")) +
                    glob.glob(os.path.join(root, "cur", "*"))):
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def send(q, sender, rcpts, body, mail_options=(), rcpt_options=()):
    """Send; the queue id from the 250 reply."""
    with smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=10) as s:
        s.ehlo("client.example.test")
        assert s.has_extn("dsn"), s.esmtp_features
        s.mail(sender, list(mail_options))
        for r in rcpts:
            code, msg = s.rcpt(r, list(rcpt_options))
            assert code == 250, (code, msg)
        code, msg = s.data(body)
        assert code == 250, (code, msg)
    return msg.decode().rsplit(" ", 1)[-1]


def notices(q, user, qid):
    """Parsed notices in user's INBOX about queue id qid."""
    out = []
    for raw in inbox(q, user):
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        if m.get_content_type() == "multipart/report" and \
                f"queue id was {qid}".encode() in raw:
            out.append((m, raw))
    return out


def add_user(q, name):
    with open(os.path.join(q.state, "passwd"), "a") as f:
        f.write(f"{name}:{{PLAIN}}secret\n")


def remove_user(q, name):
    path = os.path.join(q.state, "passwd")
    with open(path) as f:
        lines = [ln for ln in f if not ln.startswith(name + ":")]
    with open(path, "w") as f:
        f.writelines(lines)


def break_store(q, user):
    """The user's mail root is a regular file: delivery fails for now."""
    with open(os.path.join(q.state, "mail", user), "w") as f:
        f.write("not a directory\n")


def reload(q):
    before = q.read_log().count(" reloaded file=")
    q.signal(signal.SIGHUP)
    wait_for(lambda: q.read_log().count(" reloaded file=") > before,
             "the reload")


def parts(test, msg):
    """Check the multipart/report frame; its three parts."""
    test.assertEqual(msg.get_content_type(), "multipart/report")
    test.assertEqual(msg.get_param("report-type"), "delivery-status")
    test.assertTrue(msg.is_multipart())
    p = msg.get_payload()
    test.assertEqual(len(p), 3, [x.get_content_type() for x in p])
    test.assertEqual(p[0].get_content_type(), "text/plain")
    test.assertEqual(p[1].get_content_type(), "message/delivery-status")
    return p


class DsnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.q = Quilld(extra_yaml="queue:\n  retry_min: 1\n"
                       "  retry_max: 1\n", listeners=SMTP_ONLY)
        for u in ("carol", "dave", "erin"):
            add_user(cls.q, u)
        reload(cls.q)

    @classmethod
    def tearDownClass(cls):
        cls.q.stop()

    def vanish_after_acceptance(self, user, sender, mail_options,
                                rcpt_options, body):
        """user's delivery is deferred, then user is removed and quilld
        reloaded: the retry fails for good (550 5.1.1)."""
        q = self.q
        break_store(q, user)
        qid = send(q, sender, [f"{user}@example.test"], body, mail_options,
                   rcpt_options)
        state = os.path.join(q.state, "queue", "state", qid)
        wait_for(lambda: os.path.exists(state) and
                 b"defer 0 " in read(state), "a deferral")
        remove_user(q, user)
        reload(q)
        wait_for(lambda: f"{qid} queue.failed to=<{user}@example.test>"
                 in q.read_log(), "the failure")
        return qid

    def test_failed_full_message(self):
        body = (b"From: alice@example.test\r\nSubject: dsn-failed\r\n"
                b"Message-ID: <dsn-1@example.test>\r\n\r\n"
                b"for carol, who is leaving\r\n")
        qid = self.vanish_after_acceptance(
            "carol", "alice@example.test",
            ["RET=FULL", "ENVID=QQ+2B1+3Dx"],
            ["NOTIFY=FAILURE", "ORCPT=rfc822;C+2Bx@example.test"], body)
        found = wait_for(lambda: notices(self.q, "alice", qid), "a notice")
        self.assertEqual(len(found), 1)
        msg, raw = found[0]
        # the notice came with MAIL FROM:<> (RFC 3461 6.1)
        self.assertTrue(raw.startswith(b"Return-Path: <>\r\n"), raw[:80])
        self.assertEqual(msg["To"], "<alice@example.test>")
        self.assertIn("MAILER-DAEMON@mx.example.test", msg["From"])
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        p = parts(self, msg)
        self.assertIn("carol@example.test", p[0].get_payload())
        blocks = p[1].get_payload()
        self.assertEqual(len(blocks), 2)  # per-message, one recipient
        pm, pr = blocks
        self.assertEqual(pm["Reporting-MTA"], "dns; mx.example.test")
        self.assertEqual(pm["Original-Envelope-Id"], "QQ+1=x")  # decoded
        self.assertIsNotNone(pm["Arrival-Date"])
        self.assertEqual(pr["Original-Recipient"], "rfc822;C+x@example.test")
        self.assertEqual(pr["Final-Recipient"], "rfc822; carol@example.test")
        self.assertEqual(pr["Action"], "failed")
        self.assertEqual(pr["Status"], "5.1.1")
        self.assertEqual(pr["Diagnostic-Code"], "smtp; 550 5.1.1 User unknown")
        self.assertIsNotNone(pr["Last-Attempt-Date"])
        self.assertIsNone(pr["Will-Retry-Until"])
        # RET=FULL: the whole message, as queued (our Received first)
        self.assertEqual(p[2].get_content_type(), "message/rfc822")
        inner = p[2].get_payload()[0]
        self.assertEqual(inner["Subject"], "dsn-failed")
        end = f"\r\n--{msg.get_boundary()}--\r\n".encode()
        self.assertTrue(raw.endswith(body + end), raw[-300:])
        returned = raw.split(b"Content-Type: message/rfc822\r\n\r\n")[1]
        self.assertTrue(returned.startswith(b"Received: from client.example"
                                            b".test ([127.0.0.1])"), returned)
        self.assertIn(f"queue.dsn_queued dsn={qid}N1", self.q.read_log())

    def test_never_gives_none(self):
        body = b"Subject: dsn-never\r\n\r\nno notice please\r\n"
        qid = self.vanish_after_acceptance(
            "dave", "alice@example.test", [], ["NOTIFY=NEVER"], body)
        log = self.q.read_log()
        self.assertNotIn(f"{qid} queue.dsn_queued", log)
        self.assertEqual(notices(self.q, "alice", qid), [])
        self.assertFalse(os.path.exists(os.path.join(
            self.q.state, "queue", "new", qid + "N1")))

    def test_null_sender_gives_none(self):
        body = b"Subject: dsn-null\r\n\r\na bounce that bounces\r\n"
        qid = self.vanish_after_acceptance("erin", "", [], [], body)
        log = self.q.read_log()
        self.assertIn(f"{qid} queue.failed to=<erin@example.test>", log)
        self.assertIn("notice=none (from <>)", log)
        self.assertNotIn(f"{qid} queue.dsn_queued", log)
        # parked, not bounced (RFC 5321 6.1)
        self.assertTrue(os.path.exists(os.path.join(
            self.q.state, "queue", "new", qid)))

    def test_success_headers_only(self):
        body = (b"Subject: dsn-success\r\n\r\nplease tell me\r\n")
        qid = send(self.q, "alice@example.test", ["bob@example.test"], body,
                   ["RET=FULL"], ["NOTIFY=SUCCESS,FAILURE"])
        found = wait_for(lambda: notices(self.q, "alice", qid), "a notice")
        self.assertEqual(len(found), 1)
        msg, raw = found[0]
        self.assertEqual(msg["Subject"], "Successful Mail Delivery Report")
        p = parts(self, msg)
        pm, pr = p[1].get_payload()
        self.assertIsNone(pm["Original-Envelope-Id"])  # no ENVID given
        self.assertIsNone(pr["Original-Recipient"])  # no ORCPT given
        self.assertEqual(pr["Action"], "delivered")
        self.assertEqual(pr["Status"], "2.0.0")
        # no failure reported: only the header (RFC 3461 6.2)
        self.assertEqual(p[2].get_content_type(), "text/rfc822-headers")
        self.assertIn(b"Subject: dsn-success", raw)
        self.assertNotIn(b"please tell me", raw)
        self.assertEqual(len([m for m in inbox(self.q, "bob")
                              if b"please tell me" in m]), 1)
        # delivered and reported: the message left the queue
        wait_for(lambda: f"{qid} queue.removed" in self.q.read_log(),
                 "the removal")


class DelayTest(unittest.TestCase):
    """queue.delay_warning 1, queue.max_age 3: a recipient whose store
    stays broken gets a delayed notice, then a failed one (5.4.7)."""

    def test_delayed_then_failed(self):
        q = Quilld(extra_yaml="queue:\n  retry_min: 1\n  retry_max: 1\n"
                   "  max_age: 3\n  delay_warning: 1\n",
                   listeners=SMTP_ONLY)
        try:
            break_store(q, "bob")
            body = b"Subject: dsn-delay\r\n\r\nslow\r\n"
            qid = send(q, "alice@example.test", ["bob@example.test"], body,
                       [], ["NOTIFY=DELAY,FAILURE"])
            found = wait_for(lambda: len(notices(q, "alice", qid)) >= 2 and
                             notices(q, "alice", qid), "two notices")
            actions = []
            for msg, raw in found:
                p = parts(self, msg)
                pr = p[1].get_payload()[1]
                actions.append((pr["Action"], pr["Status"][0],
                                pr["Will-Retry-Until"] is not None,
                                p[2].get_content_type()))
            actions.sort()
            self.assertEqual(actions, [
                ("delayed", "4", True, "text/rfc822-headers"),
                ("failed", "5", False, "message/rfc822")])
            self.assertIn("5.4.7", b"".join(r for _, r in found).decode())
        finally:
            q.stop()


class CrashTest(unittest.TestCase):
    """quilld killed (SIGKILL) at random moments while messages with
    NOTIFY=SUCCESS are delivered and their notices made: after a last
    restart every acknowledged message is in bob's INBOX once and alice
    has exactly one notice about each."""

    ROUNDS = 150

    def kill(self, q):
        q.proc.send_signal(signal.SIGKILL)
        q.proc.wait()
        q.proc.stdout.close()
        q.log.close()

    def test_kill_while_notifying(self):
        q = Quilld(extra_yaml="queue:\n  retry_min: 1\n",
                   listeners=SMTP_ONLY)
        rng = random.Random(3464)
        sent = []
        caught = [0, 0]  # kills that left mail in new/, a notice in dsn/
        try:
            for i in range(self.ROUNDS):
                body = f"Subject: crash {i}\r\n\r\nround {i}\r\n".encode()
                try:
                    sent.append(send(q, "alice@example.test",
                                     ["bob@example.test"], body, [],
                                     ["NOTIFY=SUCCESS"]))
                except (smtplib.SMTPException, OSError):
                    pass  # killed before the 250: not acknowledged
                time.sleep(rng.random() * 0.015)
                self.kill(q)
                left = [os.listdir(os.path.join(q.state, "queue", d))
                        for d in ("new", "dsn")]
                caught[0] += bool(left[0])
                caught[1] += bool(left[1])
                q.start()
            queue_new = os.path.join(q.state, "queue", "new")
            wait_for(lambda: not os.listdir(queue_new), "an empty queue", 60)
            self.assertGreater(len(sent), self.ROUNDS // 2)
            print(f"\n{len(sent)} acknowledged, {self.ROUNDS} kills, "
                  f"{caught[0]} left mail queued, {caught[1]} a staged "
                  "notice", file=sys.stderr)
            bob = inbox(q, "bob")
            for i, qid in enumerate(sent):
                self.assertEqual(
                    len([m for m in bob if qid.encode() in m]), 1, qid)
                self.assertEqual(len(notices(q, "alice", qid)), 1, qid)
            self.assertEqual(len(inbox(q, "alice")), len(sent))
            self.assertEqual(os.listdir(os.path.join(q.state, "queue",
                                                     "dsn")), [])
        finally:
            q.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
