#!/usr/bin/env python3
"""smoke-test.py - checks the running reference peers with Python's own
clients (poplib, imaplib, smtplib), on 127.0.0.1 only.

Start them first:  scripts/peers/postfix.sh start --with-dovecot
Then:              scripts/peers/smoke-test.py [--only dovecot]

Every TLS connection verifies the peers' certificate against
$QUILL_PEERS_DIR/tls/cert.pem (default /tmp/quill-peers/tls/cert.pem) and
the address 127.0.0.1. Ports come from the same QUILL_PEER_*_PORT variables
as the scripts. Prints one line per check and "N passed, N failed"; exits 1
if any check failed. Leaves the test messages in the mailboxes (run
`scripts/peers/postfix.sh reset` for empty ones).
"""
import argparse
import imaplib
import os
import poplib
import smtplib
import ssl
import sys
import time
import uuid

HOST = "127.0.0.1"
DOMAIN = "example.test"
USERS = {"alice": "wonderland", "bob": "builder"}
STATE = os.environ.get("QUILL_PEERS_DIR", "/tmp/quill-peers")
CA_FILE = os.path.join(STATE, "tls", "cert.pem")
TIMEOUT = 10


def port(name, default):
    return int(os.environ.get("QUILL_PEER_%s_PORT" % name, default))


POP3, POP3S = port("POP3", 3110), port("POP3S", 3995)
IMAP, IMAPS = port("IMAP", 3143), port("IMAPS", 3993)
LMTP = port("LMTP", 3024)
SMTP, SUBMISSION = port("SMTP", 3025), port("SUBMISSION", 3587)
SUBMISSIONS = port("SUBMISSIONS", 3465)

results = []


def tls_context():
    ctx = ssl.create_default_context(cafile=CA_FILE)
    ctx.check_hostname = True  # against the IP SAN 127.0.0.1
    return ctx


def check(name):
    def wrap(fn):
        try:
            detail = fn()
            results.append((name, True, detail or ""))
            print("ok     %s%s" % (name, " - " + detail if detail else ""))
        except Exception as exc:  # report every failure, run every check
            results.append((name, False, repr(exc)))
            print("FAILED %s - %r" % (name, exc))
        return fn

    return wrap


def message(sender, rcpt, subject):
    return (
        "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
        "Message-ID: <%s@client.example.test>\r\n\r\n"
        "Hello from the Quill peer smoke test.\r\n.dot-stuffed line\r\n"
        % (sender, rcpt, subject, uuid.uuid4().hex)
    )


def pop3_find(user, subject, limit=15):
    """Polls user's POP3 maildrop until a message with this Subject is
    there; returns its full text."""
    deadline = time.monotonic() + limit
    while True:
        p = poplib.POP3(HOST, POP3, timeout=TIMEOUT)
        try:
            p.user(user)
            p.pass_(USERS[user])
            count, _ = p.stat()
            for i in range(count, 0, -1):
                lines = p.retr(i)[1]
                text = b"\r\n".join(lines).decode("utf-8", "replace")
                if ("Subject: %s" % subject) in text:
                    return text
        finally:
            p.quit()
        if time.monotonic() > deadline:
            raise AssertionError("no message '%s' for %s after %ss" % (subject, user, limit))
        time.sleep(0.3)


def dovecot_checks():
    @check("pop3 %d: USER/PASS alice, STAT (plaintext)" % POP3)
    def _():
        p = poplib.POP3(HOST, POP3, timeout=TIMEOUT)
        greeting = p.getwelcome().decode()
        p.user("alice")
        p.pass_("wonderland")
        count, size = p.stat()
        p.quit()
        return "%s; STAT %d %d" % (greeting, count, size)

    @check("pop3 %d: CAPA lists STLS, UIDL, TOP, SASL PLAIN" % POP3)
    def _():
        p = poplib.POP3(HOST, POP3, timeout=TIMEOUT)
        capa = p.capa()
        p.quit()
        for want in ("STLS", "UIDL", "TOP", "SASL"):
            assert want in capa, "%s missing from %s" % (want, capa)
        assert "PLAIN" in capa["SASL"], capa["SASL"]
        return " ".join(sorted(capa))

    @check("pop3 %d: STLS (verified), login alice, STAT" % POP3)
    def _():
        p = poplib.POP3(HOST, POP3, timeout=TIMEOUT)
        p.stls(context=tls_context())
        version = p.sock.version()
        p.user("alice")
        p.pass_("wonderland")
        count, size = p.stat()
        p.quit()
        return "%s; STAT %d %d" % (version, count, size)

    @check("pop3s %d: implicit TLS, login bob, STAT" % POP3S)
    def _():
        p = poplib.POP3_SSL(HOST, POP3S, timeout=TIMEOUT, context=tls_context())
        p.user("bob")
        p.pass_("builder")
        count, size = p.stat()
        p.quit()
        return "STAT %d %d" % (count, size)

    @check("pop3 %d: wrong password is -ERR" % POP3)
    def _():
        p = poplib.POP3(HOST, POP3, timeout=TIMEOUT)
        p.user("alice")
        try:
            p.pass_("not-the-password")
        except poplib.error_proto as exc:
            return exc.args[0].decode()
        finally:
            try:
                p.quit()
            except Exception:
                pass
        raise AssertionError("login with a wrong password succeeded")

    @check("imap %d: LOGIN alice, SELECT INBOX (plaintext)" % IMAP)
    def _():
        m = imaplib.IMAP4(HOST, IMAP, timeout=TIMEOUT)
        caps = " ".join(m.capabilities)
        assert "STARTTLS" in caps, caps
        m.login("alice", "wonderland")
        typ, data = m.select("INBOX")
        assert typ == "OK", (typ, data)
        m.logout()
        return "EXISTS %s; pre-login CAPABILITY %s" % (data[0].decode(), caps)

    @check("imap %d: STARTTLS (verified), LOGIN bob" % IMAP)
    def _():
        m = imaplib.IMAP4(HOST, IMAP, timeout=TIMEOUT)
        m.starttls(ssl_context=tls_context())
        version = m.sock.version()
        m.login("bob", "builder")
        typ, data = m.select("INBOX")
        assert typ == "OK", (typ, data)
        m.logout()
        return version

    @check("imaps %d: implicit TLS, LOGIN alice, LIST" % IMAPS)
    def _():
        m = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=tls_context(), timeout=TIMEOUT)
        m.login("alice", "wonderland")
        typ, boxes = m.list()
        assert typ == "OK", (typ, boxes)
        m.logout()
        return "; ".join(b.decode() for b in boxes)

    @check("lmtp %d: LHLO, deliver to bob, read it over POP3" % LMTP)
    def _():
        subject = "lmtp smoke %s" % uuid.uuid4().hex[:8]
        with smtplib.LMTP(HOST, LMTP, timeout=TIMEOUT) as l:
            l.ehlo("client.example.test")  # smtplib's LMTP sends LHLO
            refused = l.sendmail("carol@client.example.test", ["bob@" + DOMAIN],
                                 message("carol@client.example.test", "bob@" + DOMAIN, subject))
            assert not refused, refused
        text = pop3_find("bob", subject)
        assert text.startswith("Return-Path: <carol@client.example.test>"), text[:200]
        return "delivered"


def postfix_checks():
    @check("smtp %d: EHLO, STARTTLS (verified), send to alice; POP3 RETR sees it" % SMTP)
    def _():
        subject = "smtp smoke %s" % uuid.uuid4().hex[:8]
        with smtplib.SMTP(HOST, SMTP, timeout=TIMEOUT) as s:
            s.ehlo("client.example.test")
            assert s.has_extn("starttls"), s.esmtp_features
            assert not s.has_extn("auth"), "AUTH offered on port 25-like service"
            s.starttls(context=tls_context())
            s.ehlo("client.example.test")
            s.sendmail("carol@client.example.test", ["alice@" + DOMAIN],
                       message("carol@client.example.test", "alice@" + DOMAIN, subject))
        text = pop3_find("alice", subject)
        first = text.split("\r\n", 1)[0]
        return "arrived; first line %r" % first

    @check("smtp %d: plaintext send to bob, read over IMAP" % SMTP)
    def _():
        subject = "smtp plain %s" % uuid.uuid4().hex[:8]
        with smtplib.SMTP(HOST, SMTP, timeout=TIMEOUT) as s:
            s.sendmail("carol@client.example.test", ["bob@" + DOMAIN],
                       message("carol@client.example.test", "bob@" + DOMAIN, subject))
        deadline = time.monotonic() + 15
        while True:
            m = imaplib.IMAP4(HOST, IMAP, timeout=TIMEOUT)
            m.login("bob", "builder")
            m.select("INBOX", readonly=True)
            typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
            m.logout()
            if data and data[0]:
                return "found as message %s" % data[0].decode()
            if time.monotonic() > deadline:
                raise AssertionError("not delivered")
            time.sleep(0.3)

    @check("smtp %d: relaying to another domain is refused (5.7.1)" % SMTP)
    def _():
        with smtplib.SMTP(HOST, SMTP, timeout=TIMEOUT) as s:
            s.ehlo("client.example.test")
            s.mail("carol@client.example.test")
            code, text = s.rcpt("dave@elsewhere.test")
            s.rset()
        assert code == 554 and b"5.7.1" in text, (code, text)
        return "%d %s" % (code, text.decode())

    @check("smtp %d: unknown user in example.test is 550 5.1.1" % SMTP)
    def _():
        with smtplib.SMTP(HOST, SMTP, timeout=TIMEOUT) as s:
            s.ehlo("client.example.test")
            s.mail("carol@client.example.test")
            code, text = s.rcpt("nobody@" + DOMAIN)
            s.rset()
        assert code == 550 and b"5.1.1" in text, (code, text)
        return "%d %s" % (code, text.decode())

    @check("submission %d: no AUTH before TLS, STARTTLS, AUTH PLAIN alice, send to bob" % SUBMISSION)
    def _():
        subject = "submission smoke %s" % uuid.uuid4().hex[:8]
        with smtplib.SMTP(HOST, SUBMISSION, timeout=TIMEOUT) as s:
            s.ehlo("client.example.test")
            assert s.has_extn("starttls"), s.esmtp_features
            assert not s.has_extn("auth"), "AUTH offered before TLS"
            s.starttls(context=tls_context())
            s.ehlo("client.example.test")
            if not s.has_extn("auth"):
                return "no AUTH after TLS (Postfix started without Dovecot SASL)"
            s.login("alice", "wonderland")
            s.sendmail("alice@" + DOMAIN, ["bob@" + DOMAIN],
                       message("alice@" + DOMAIN, "bob@" + DOMAIN, subject))
        pop3_find("bob", subject)
        return "AUTH %s; delivered" % s.esmtp_features.get("auth", "").strip()

    @check("submission %d: MAIL before STARTTLS is refused" % SUBMISSION)
    def _():
        with smtplib.SMTP(HOST, SUBMISSION, timeout=TIMEOUT) as s:
            s.ehlo("client.example.test")
            code, text = s.mail("alice@" + DOMAIN)
        assert code == 530, (code, text)
        return "%d %s" % (code, text.decode())

    @check("submissions %d: implicit TLS, AUTH bob, send to alice" % SUBMISSIONS)
    def _():
        subject = "submissions smoke %s" % uuid.uuid4().hex[:8]
        with smtplib.SMTP_SSL(HOST, SUBMISSIONS, timeout=TIMEOUT, context=tls_context()) as s:
            s.ehlo("client.example.test")
            if not s.has_extn("auth"):
                return "no AUTH (Postfix started without Dovecot SASL)"
            s.login("bob", "builder")
            s.sendmail("bob@" + DOMAIN, ["alice@" + DOMAIN],
                       message("bob@" + DOMAIN, "alice@" + DOMAIN, subject))
        pop3_find("alice", subject)
        return "delivered"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["dovecot", "postfix"])
    args = ap.parse_args()
    if args.only in (None, "dovecot"):
        dovecot_checks()
    if args.only in (None, "postfix"):
        postfix_checks()
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
