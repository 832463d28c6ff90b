"""e2e_smtp_clients.py - quilld's SMTP listeners driven by clients nobody
here wrote: python3 smtplib, curl, swaks and openssl s_client, over plain
TCP, STARTTLS (RFC 3207) and implicit TLS (RFC 8314); mail accepted only
once durably spooled; the STARTTLS plaintext-injection case and the
command line limit over the wire.
"""
import glob
import os
import socket
import smtplib
import ssl
import subprocess
import time

from quilltest import Quilld, recv_reply, run_cases

Q = None  # one server for every case in this file
HELO = "client.example.test"


def tls_context(maximum=None):
    ctx = ssl.create_default_context(cafile=Q.cert)
    if maximum is not None:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = maximum
    return ctx


def test_smtplib_plain_ehlo():
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as s:
        code, msg = s.ehlo()
        assert code == 250, (code, msg)
        assert msg.startswith(b"mx.example.test Hello client.example.test")
        for ext in ("pipelining", "enhancedstatuscodes", "starttls"):
            assert s.has_extn(ext), (ext, s.esmtp_features)
        assert s.noop() == (250, b"2.0.0 OK")
        assert s.rset() == (250, b"2.0.0 OK")
        code, msg = s.docmd("HELP")
        assert code == 214 and b"EHLO" in msg, (code, msg)
        assert s.docmd("FROB") == (500, b"5.5.1 Command unrecognized")


def test_smtplib_starttls():
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as s:
        s.ehlo()
        code, msg = s.starttls(context=tls_context())
        assert code == 220 and msg == b"2.0.0 Ready to start TLS"
        assert s.sock.version() in ("TLSv1.3", "TLSv1.2"), s.sock.version()
        code, _ = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls"), "STARTTLS offered after TLS"
        assert s.noop()[0] == 250


def test_smtplib_submission_starttls():
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.starttls(context=tls_context())
        assert s.ehlo()[0] == 250


def test_smtplib_implicit_tls():
    with smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                          local_hostname=HELO, context=tls_context(),
                          timeout=10) as s:
        code, _ = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls")
        assert s.sock.version() == "TLSv1.3", s.sock.version()


def test_tls12_accepted_tls11_refused():
    with smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                          local_hostname=HELO,
                          context=tls_context(ssl.TLSVersion.TLSv1_2),
                          timeout=10) as s:
        assert s.sock.version() == "TLSv1.2"
        assert "ECDHE" in s.sock.cipher()[0], s.sock.cipher()
    try:
        ctx = tls_context(ssl.TLSVersion.TLSv1_1)
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                         local_hostname=HELO, context=ctx, timeout=10)
    except (ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected):
        return
    raise AssertionError("a TLS 1.1 handshake succeeded")


def run(cmd, stdin=None, timeout=30):
    return subprocess.run(cmd, input=stdin, capture_output=True,
                          timeout=timeout, text=True)


def test_curl_plain_starttls_implicit():
    port, tport = Q.ports["smtp"], Q.ports["submissions"]
    # no recipient: curl sends EHLO, HELP, QUIT and prints the HELP text
    r = run(["curl", "-sSv", f"smtp://127.0.0.1:{port}/{HELO}"])
    assert r.returncode == 0, r.stderr
    assert "Commands: EHLO HELO STARTTLS" in r.stdout, r.stdout
    assert f"EHLO {HELO}" in r.stderr
    r = run(["curl", "-sSv", "--ssl-reqd", "--cacert", Q.cert,
             f"smtp://127.0.0.1:{port}/{HELO}"])
    assert r.returncode == 0, r.stderr
    assert "STARTTLS" in r.stderr and "Commands:" in r.stdout, r.stderr
    assert "SSL connection using TLSv1.3" in r.stderr, r.stderr
    r = run(["curl", "-sSv", "--cacert", Q.cert,
             f"smtps://127.0.0.1:{tport}/{HELO}"])
    assert r.returncode == 0, r.stderr
    assert "Commands: EHLO HELO RSET" in r.stdout, r.stdout


def test_openssl_s_client_starttls():
    r = run(["openssl", "s_client", "-starttls", "smtp", "-crlf", "-quiet",
             "-verify_return_error", "-CAfile", Q.cert,
             "-verify_hostname", "localhost",
             "-connect", f"127.0.0.1:{Q.ports['smtp']}"],
            stdin=f"EHLO {HELO}\nNOOP\nQUIT\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout.replace("\r", "")
    assert "250-mx.example.test Hello client.example.test" in out, out
    assert "STARTTLS" not in out, out
    assert "250 2.0.0 OK" in out and "221 2.0.0" in out, out


def test_starttls_discards_pipelined_plaintext():
    """RFC 3207 4.2: bytes sent after STARTTLS, before the handshake, are
    never executed (the CVE-2011-0411 class of injection)."""
    with socket.create_connection(("127.0.0.1", Q.ports["smtp"]), 10) as raw:
        recv_reply(raw)
        raw.sendall(f"EHLO {HELO}\r\n".encode())
        recv_reply(raw)
        raw.sendall(b"STARTTLS\r\nRSET\r\nNOOP\r\n")
        assert recv_reply(raw).startswith("220 2.0.0")
        ctx = tls_context()
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(f"EHLO {HELO}\r\n".encode())
            reply = recv_reply(tls)
            assert reply.startswith("250-mx.example.test"), reply
            assert "2.0.0 OK" not in reply, reply
            tls.sendall(b"QUIT\r\n")
            assert recv_reply(tls).startswith("221 ")
    assert "smtp.starttls_discarded bytes=12" in Q.read_log()


def test_line_too_long_then_carry_on():
    """RFC 5321 4.5.3.1.4: 512 octets with CRLF; longer gets 500."""
    with socket.create_connection(("127.0.0.1", Q.ports["smtp"]), 10) as s:
        recv_reply(s)
        s.sendall(b"NOOP " + b"x" * 505 + b"\r\n")  # 512 exactly
        assert recv_reply(s) == "250 2.0.0 OK\r\n"
        s.sendall(b"NOOP " + b"x" * 2000 + b"\r\nNOOP\r\n")
        r = recv_reply(s)
        assert r.startswith("500 5.5.2 Line too long"), r
        if r.count("\r\n") == 1:
            r = recv_reply(s)
        assert r.endswith("250 2.0.0 OK\r\n"), r


def test_pipelined_batch_answered_in_order():
    """RFC 2920: a batch of commands gets its replies in order."""
    with socket.create_connection(("127.0.0.1", Q.ports["smtp"]), 10) as s:
        recv_reply(s)
        s.sendall(f"EHLO {HELO}\r\nRSET\r\nNOOP\r\nBOGUS\r\nQUIT\r\n"
                  .encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        codes = [l[:3] for l in data.decode().split("\r\n") if l[3:4] == " "]
        assert codes == ["250", "250", "250", "500", "221"], data


def delivered(user, needle, timeout=20):
    """The message holding needle in user's Maildir, once the queue
    runner has delivered it there."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in glob.glob(os.path.join(Q.state, "mail", user, "*", "*")):
            with open(p, "rb") as f:
                data = f.read()
            if needle in data:
                return data
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not delivered to {user}")


def queue_id_of(reply):
    return reply.decode().rsplit(" ", 1)[-1]


def test_smtplib_sends_mail():
    """RFC 5321 3.3: MAIL, RCPT, DATA; 250 only once spooled (fsync'd)."""
    body = ("From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n"
            "Subject: e2e\r\n\r\n.leading dot\r\nbye\r\n")
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as s:
        s.starttls(context=tls_context())
        s.ehlo()
        assert s.has_extn("size") and s.has_extn("8bitmime")
        assert s.has_extn("smtputf8")
        code, _ = s.mail("alice@example.test", ["SIZE=%d" % len(body)])
        assert code == 250
        assert s.rcpt("bob@example.test") == (250, b"2.1.5 Recipient OK")
        code, reply = s.data(body.encode())
        assert code == 250 and reply.startswith(b"2.0.0 OK queued as "), reply
    qid = queue_id_of(reply)
    msg = delivered("bob", f" id {qid}".encode())
    head = b"Return-Path: <alice@example.test>\r\n" \
        b"Delivered-To: bob@example.test\r\n"
    assert msg.startswith(head), msg[:200]
    msg = msg[len(head):]
    assert msg.startswith(b"Received: from client.example.test "
                          b"([127.0.0.1])\r\n\tby mx.example.test (Quill) "
                          b"with ESMTPS id "), msg
    assert b"\tfor <bob@example.test>;" in msg and b"TLSv1.3" in msg, msg
    assert msg.endswith(body.encode()), msg


def test_recipient_policy():
    """Unknown local user 550 5.1.1; relaying 550 5.7.1; postmaster is
    always accepted (RFC 5321 4.5.1); no valid recipient: DATA 554."""
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as s:
        s.ehlo()
        s.mail("someone@elsewhere.example")
        assert s.rcpt("nobody@example.test") == (550, b"5.1.1 User unknown")
        assert s.rcpt("x@elsewhere.example") == (550, b"5.7.1 Relaying denied")
        for trick in ("alice%elsewhere.example@example.test",
                      "elsewhere.example!alice@example.test",
                      "\"alice@elsewhere.example\"@example.test"):
            assert s.rcpt(trick) == (550, b"5.7.1 Relaying denied"), trick
        assert s.docmd("DATA") == (554, b"5.5.1 No valid recipients")
        assert s.rcpt("postmaster")[0] == 250
        assert s.rcpt("Postmaster@example.test")[0] == 250
        # a source route is accepted and ignored (RFC 5321 4.1.1.3)
        code, _ = s.docmd("RCPT TO:<@relay.example:alice@example.test>")
        assert code == 250, code


def test_swaks_and_curl_send():
    port = Q.ports["smtp"]
    r = run(["swaks", "--server", "127.0.0.1", "--port", str(port),
             "--helo", HELO, "--from", "alice@example.test",
             "--to", "bob@example.test", "--tls", "--tls-ca-path", Q.cert,
             "--header", "Subject: swaks e2e", "--body", "hello from swaks"],
            timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  250 2.0.0 OK queued as" in r.stdout, r.stdout
    mail = "From: a@example.test\r\nSubject: curl e2e\r\n\r\nhi\r\n"
    r = run(["curl", "-sSv", "--ssl-reqd", "--cacert", Q.cert,
             "--mail-from", "alice@example.test",
             "--mail-rcpt", "bob@example.test", "-T", "-",
             f"smtp://127.0.0.1:{port}/{HELO}"], stdin=mail)
    assert r.returncode == 0, r.stderr
    assert "250 2.0.0 OK queued as" in r.stderr, r.stderr
    delivered("bob", b"Subject: curl e2e")
    delivered("bob", b"Subject: swaks e2e")


def test_submission_requires_auth():
    """RFC 6409 4.3 / RFC 4954 6: MAIL before AUTH on submission: 530."""
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.starttls(context=tls_context())
        s.ehlo()
        code, msg = s.mail("alice@example.test")
        assert (code, msg) == (530, b"5.7.0 Authentication required")


if __name__ == "__main__":
    Q = Quilld()
    try:
        run_cases([test_smtplib_plain_ehlo, test_smtplib_starttls,
                   test_smtplib_submission_starttls,
                   test_smtplib_implicit_tls,
                   test_tls12_accepted_tls11_refused,
                   test_curl_plain_starttls_implicit,
                   test_openssl_s_client_starttls,
                   test_starttls_discards_pipelined_plaintext,
                   test_line_too_long_then_carry_on,
                   test_pipelined_batch_answered_in_order,
                   test_smtplib_sends_mail, test_recipient_policy,
                   test_swaks_and_curl_send, test_submission_requires_auth])
    finally:
        Q.stop()
