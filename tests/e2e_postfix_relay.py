#!/usr/bin/env python3
"""e2e_postfix_relay.py - Debian's Postfix relays mail to quilld.

A private Postfix (scripts/peers/postfix.sh, its own state directory and
free ports on 127.0.0.1, QUILL_PEER_DELIVERY=relay) accepts mail for
example.test and hands it on to a quilld on loopback:

 - over SMTP: virtual_transport smtp:[127.0.0.1]:<quilld smtp port>; the
   message lands in quilld's queue (queue/new), from which quilld's
   queue runner delivers it to each recipient's INBOX;
 - over LMTP (RFC 2033): virtual_transport lmtp:inet:127.0.0.1:<quilld
   lmtp port>; quilld delivers to each recipient's INBOX and answers
   for each; Postfix logs each recipient as sent.

Mail goes into Postfix over SMTP (python3 smtplib) and through Postfix's
own sendmail(1). The test waits, bounded, for each message in quilld and
checks the envelope Postfix gave (MAIL FROM, every RCPT, Postfix's HELO,
BODY=8BITMIME; once quilld's queue has delivered it, Return-Path and
Delivered-To in each recipient's INBOX instead) and the bytes: quilld's Received, then Postfix's, then the
message exactly as injected (RFC 5321 4.4: each relay prepends its trace
header and changes nothing else; 4.5.2: dot transparency on both hops).

Postfix runs as root: the test runs scripts/peers/postfix.sh directly as
root, or through `sudo -n` otherwise (CI). It fails when neither works or
Postfix does not start, and is skipped (exit 77) only when Postfix cannot
be installed. Python standard library only.
"""
import glob
import os
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import Quilld, free_port, run_cases  # noqa: E402

SOURCE = os.environ.get("QUILL_SOURCE",
                        os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__))))
SCRIPT = os.path.join(SOURCE, "scripts", "peers", "postfix.sh")
PEERS = f"/tmp/qp-relay-{os.getpid()}"
PF_ETC = os.path.join(PEERS, "postfix", "etc")
PORTS = {name: free_port() for name in
         ("SMTP", "SUBMISSION", "SUBMISSIONS", "POP3", "POP3S", "IMAP",
          "IMAPS", "LMTP")}
ENV = dict(os.environ, QUILL_PEERS_DIR=PEERS, QUILL_PEER_SASL="none",
           QUILL_PEER_DELIVERY="relay",
           **{f"QUILL_PEER_{k}_PORT": str(v) for k, v in PORTS.items()})
SUDO = [] if os.geteuid() == 0 else ["sudo", "-n", "--preserve-env"]
WAIT = 60  # seconds a relayed message may take
SKIP = 77

Q = None  # the quilld Postfix relays to


def sh(*args, check=True, env=None, stdin=None):
    r = subprocess.run(SUDO + list(args), env=env or ENV, input=stdin,
                       capture_output=True, timeout=240)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n"
                             f"{r.stdout.decode(errors='replace')}"
                             f"{r.stderr.decode(errors='replace')}")
    return r


def postfix(action, relay=None):
    env = dict(ENV)
    if relay is not None:
        env["QUILL_PEER_RELAY"] = relay
    return sh("bash", SCRIPT, action, env=env)


def setup():
    if SUDO and subprocess.run(["sudo", "-n", "true"],
                               capture_output=True).returncode != 0:
        print("FAIL: Postfix must run as root: run this test as root or "
              "with passwordless sudo (CI has it)")
        sys.exit(1)
    try:
        postfix("install")
    except Exception as e:
        print(f"SKIP: Postfix cannot be installed here: {e}")
        sys.exit(SKIP)


def teardown():
    sh("bash", SCRIPT, "stop", check=False)
    sh("rm", "-rf", PEERS, check=False)


def relay_to(transport):
    """(Re)start the private Postfix relaying example.test to transport."""
    sh("bash", SCRIPT, "stop", check=False)
    postfix("start", relay=transport)


def postfix_log():
    r = sh("cat", os.path.join(PEERS, "postfix", "postfix.log"), check=False)
    return r.stdout.decode(errors="replace")[-3000:]


def wait_for(find, what):
    """Poll find() until it returns something, for at most WAIT s."""
    deadline = time.time() + WAIT
    while time.time() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not arrive within {WAIT}s; Postfix "
                         f"log:\n{postfix_log()}\nquilld log:\n"
                         f"{Q.read_log()[-3000:]}")


def queued_with(marker):
    """quilld's spool files whose message holds marker: [(head, body)]."""
    out = []
    for path in glob.glob(os.path.join(Q.state, "queue", "new", "*")):
        try:
            with open(path, "rb") as f:
                head, _, body = f.read().partition(b"\n\n")
        except FileNotFoundError:
            continue  # delivered meanwhile
        if marker in body:
            out.append((head.decode(), body))
    return out


def delivered_with(user, marker):
    """The messages in user's INBOX (Maildir) that hold marker."""
    out = []
    root = os.path.join(Q.state, "mail", user)
    for path in glob.glob(os.path.join(root, "new", "*")) + \
            glob.glob(os.path.join(root, "cur", "*")):
        with open(path, "rb") as f:
            data = f.read()
        if marker in data:
            out.append(data)
    return out


def arrival(marker, rcpts):
    """Wait for the message holding marker: ("spool", head, body) while it
    is in quilld's queue, or ("inbox", {rcpt: message}) once a queue
    runner has delivered it to every recipient's INBOX."""
    def look():
        boxes = {r: delivered_with(r.split("@")[0], marker) for r in rcpts}
        if all(boxes.values()):
            for r, found in boxes.items():
                assert len(found) == 1, (r, found)
            return ("inbox", {r: found[0] for r, found in boxes.items()})
        spooled = queued_with(marker)
        if spooled and not any(boxes.values()):
            assert len(spooled) == 1, spooled
            return ("spool",) + spooled[0]
        return None
    return wait_for(look, f"the message with {marker!r}")


def message(tag, extra=b""):
    return (b"From: Sender <sender@client.test>\r\n"
            b"To: alice@example.test, bob@example.test\r\n"
            b"Subject: relay " + tag + b"\r\n"
            b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <" + tag + b"@client.test>\r\n\r\n"
            b"first line of " + tag + b"\r\n"
            b".a line that starts with a dot\r\n"
            b"..and one with two\r\n" + extra +
            b"last line\r\n")


def trace_headers(body):
    """The Received headers at the top of body (folded lines joined) and
    the bytes after them."""
    lines = body.split(b"\r\n")
    fields, i = [], 0
    while i < len(lines) and lines[i].startswith(b"Received:"):
        field = lines[i]
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            field += b" " + lines[i].strip()
            i += 1
        fields.append(field.decode())
    return fields, b"\r\n".join(lines[i:])


def check_relayed(found, original, sender, rcpts, body_type="7BIT",
                  postfix_from="mx.peer.test", proto="ESMTP"):
    """The envelope and bytes of one message Postfix relayed to quilld:
    the spool's envelope lines, or Return-Path and Delivered-To in each
    recipient's copy; then quilld's Received, Postfix's, and the message
    exactly as injected."""
    if found[0] == "spool":
        _, head, body = found
        assert f"\nfrom <{sender}>\n" in head + "\n", head
        got = re.findall(r"^rcpt <([^>]*)>$", head, re.M)
        assert sorted(got) == sorted(rcpts), (got, rcpts)
        assert "\nhelo mx.peer.test\n" in head, head
        assert "\npeer 127.0.0.1\n" in head, head
        assert f"\nbody {body_type}\n" in head, head
        copies = [body]
    else:
        copies = []
        assert sorted(found[1]) == sorted(rcpts), (found[1].keys(), rcpts)
        for rcpt, msg in found[1].items():
            top = (f"Return-Path: <{sender}>\r\n"
                   f"Delivered-To: {rcpt}\r\n").encode()
            assert msg.startswith(top), msg[:300]
            copies.append(msg[len(top):])
    for body in copies:
        received, rest = trace_headers(body)
        assert len(received) == 2, received
        assert received[0].startswith("Received: from mx.peer.test "), \
            received
        assert f"by mx.example.test (Quill) with {proto} id " in \
            received[0], received
        assert received[1].startswith("Received: " + postfix_from), \
            received
        assert "by mx.peer.test (Postfix" in received[1], received
        assert rest == original, (rest[:400], original[:400])


# --- SMTP ------------------------------------------------------------------

def test_smtp_relay_smtplib():
    relay_to(f"smtp:[127.0.0.1]:{Q.ports['smtp']}")
    tag = f"smtp-{os.getpid()}".encode()
    original = message(tag)
    rcpts = ["alice@example.test", "bob@example.test"]
    with smtplib.SMTP("127.0.0.1", PORTS["SMTP"], timeout=20) as s:
        s.ehlo("client.test")
        s.sendmail("sender@client.test", rcpts, original)
    check_relayed(arrival(b"first line of " + tag, rcpts), original,
                  "sender@client.test", rcpts,
                  postfix_from="from client.test ")


def test_smtp_relay_8bit_and_null_sender():
    """BODY=8BITMIME is passed on; a bounce's <> stays <>."""
    tag = f"smtp8-{os.getpid()}".encode()
    original = message(tag, "caf\u00e9 \u00fcber na\u00efve\r\n".encode())
    with smtplib.SMTP("127.0.0.1", PORTS["SMTP"], timeout=20) as s:
        s.ehlo("client.test")
        assert s.has_extn("8bitmime")
        s.sendmail("", ["alice@example.test"], original,
                   mail_options=["BODY=8BITMIME"])
    check_relayed(arrival(b"first line of " + tag, ["alice@example.test"]),
                  original, "", ["alice@example.test"],
                  body_type="8BITMIME", postfix_from="from client.test ")


def test_smtp_relay_sendmail():
    """Postfix's own sendmail(1) -> pickup -> cleanup -> smtp -> quilld;
    Postfix's Received says "by ... from userid", and as every header
    the message needs is there, it adds none."""
    tag = f"sendmail-{os.getpid()}".encode()
    original = message(tag)
    # sendmail takes LF lines and Postfix writes CRLF on the wire
    sh("/usr/sbin/sendmail", "-C", PF_ETC, "-i", "-f", "sender@client.test",
       "bob@example.test", stdin=original.replace(b"\r\n", b"\n"))
    check_relayed(arrival(b"first line of " + tag, ["bob@example.test"]),
                  original, "sender@client.test", ["bob@example.test"],
                  postfix_from="by mx.peer.test (Postfix, from userid ")


# --- LMTP ------------------------------------------------------------------

def test_lmtp_relay_two_recipients():
    """Postfix's lmtp(8) client hands the message to quilld's LMTP
    listener (RFC 2033): one reply per recipient, each a delivery into
    that user's INBOX; the queue is not used."""
    relay_to(f"lmtp:inet:127.0.0.1:{Q.ports['lmtp']}")
    tag = f"lmtp-{os.getpid()}".encode()
    original = message(tag)
    rcpts = ["alice@example.test", "bob@example.test"]
    with smtplib.SMTP("127.0.0.1", PORTS["SMTP"], timeout=20) as s:
        s.ehlo("client.test")
        s.sendmail("sender@client.test", rcpts, original)
    found = arrival(b"first line of " + tag, rcpts)
    assert found[0] == "inbox", found[:2]
    check_relayed(found, original, "sender@client.test", rcpts,
                  postfix_from="from client.test ", proto="LMTP")
    log = postfix_log()
    for rcpt in rcpts:
        assert re.search(rf"to=<{re.escape(rcpt)}>, relay=127\.0\.0\.1"
                         rf"\[127\.0\.0\.1\]:{Q.ports['lmtp']},.*"
                         rf"status=sent \(250 2\.1\.5 ", log), log


def test_lmtp_relay_8bit_and_null_sender():
    tag = f"lmtp8-{os.getpid()}".encode()
    original = message(tag, "caf\u00e9 \u00fcber na\u00efve\r\n".encode())
    with smtplib.SMTP("127.0.0.1", PORTS["SMTP"], timeout=20) as s:
        s.ehlo("client.test")
        s.sendmail("", ["bob@example.test"], original,
                   mail_options=["BODY=8BITMIME"])
    found = arrival(b"first line of " + tag, ["bob@example.test"])
    check_relayed(found, original, "", ["bob@example.test"],
                  postfix_from="from client.test ", proto="LMTP")


def main():
    global Q
    if not os.path.exists(SCRIPT):
        print(f"FAIL: {SCRIPT} not found (QUILL_SOURCE?)")
        sys.exit(1)
    setup()
    Q = Quilld(listeners=[("smtp", "smtp", "127.0.0.1", "none"),
                          ("lmtp", "lmtp", "127.0.0.1", "none")])
    try:
        run_cases([test_smtp_relay_smtplib,
                   test_smtp_relay_8bit_and_null_sender,
                   test_smtp_relay_sendmail,
                   test_lmtp_relay_two_recipients,
                   test_lmtp_relay_8bit_and_null_sender])
    finally:
        Q.stop()
        teardown()


if __name__ == "__main__":
    main()
