"""e2e_smtp_auth.py - SMTP AUTH (RFC 4954) and message submission (RFC 6409,
RFC 8314) with clients nobody here wrote: python3 smtplib (PLAIN with and
without an initial response, LOGIN; STARTTLS on submission and implicit
TLS on submissions, certificates verified), curl (smtp:// with --ssl-reqd
and smtps://), swaks (PLAIN, LOGIN) and msmtp (SCRAM-SHA-256 through GNU
SASL, and PLAIN). Each message is looked for in the spool or a mailbox;
a wrong password fails in each client. Also: AUTH not offered before
STARTTLS, relaying only once authenticated, the sender check, Date and
Message-ID added, and the per-address connection limit.
"""
import glob
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import uuid

from quilltest import Quilld, recv_reply, run_cases

Q = None  # one server for most cases: a config file, plaintext AUTH off
HELO = "client.example.test"
EXTRA = "auth:\n  failure_delay_ms: 200\n"


def tls_context(q=None):
    return ssl.create_default_context(cafile=(q or Q).cert)


def run(cmd, stdin=None, timeout=60):
    return subprocess.run(cmd, input=stdin, capture_output=True,
                          timeout=timeout, text=True)


def stored_messages(q, where):
    """Messages quilld holds: in the queue, or delivered to a mailbox."""
    if where == "queue":
        paths = glob.glob(os.path.join(q.state, "queue", "new", "*"))
    else:
        paths = []
        for sub in ("new", "cur"):
            paths += glob.glob(os.path.join(q.state, "mail", "*", sub, "*"))
    out = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                out.append(f.read())
        except FileNotFoundError:  # delivered meanwhile
            pass
    return out


def find_message(token, q=None, where="mailbox", timeout=20):
    """The one message holding token: delivered to a local mailbox (the
    queue runner does it right after the 250), or still queued (relayed
    to another domain, waiting for outbound delivery)."""
    q = q or Q
    deadline = time.time() + timeout
    while True:
        found = [m for m in stored_messages(q, where) if token.encode() in m]
        if found or time.time() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, (token, where, len(found))
    return found[0]


def message(subject, extra=""):
    return (f"From: alice@example.test\r\nTo: bob@example.test\r\n"
            f"Subject: {subject}\r\n{extra}\r\nhello\r\n")


def token():
    return "t" + uuid.uuid4().hex[:12]


def test_auth_offered_only_after_starttls():
    """RFC 4954 4 and 14, RFC 8314: no AUTH before TLS by default."""
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.ehlo()
        assert not s.has_extn("auth"), s.esmtp_features
        code, msg = s.docmd("AUTH", "PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=")
        assert (code, msg[:6]) == (538, b"5.7.11"), (code, msg)
        s.starttls(context=tls_context())
        s.ehlo()
        assert s.esmtp_features["auth"].split() == \
            ["SCRAM-SHA-256", "PLAIN", "LOGIN"], s.esmtp_features


def test_smtplib_plain_and_login_starttls():
    t = token()
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.starttls(context=tls_context())
        s.ehlo()
        code, msg = s.login("alice", "wonderland")  # PLAIN, initial response
        assert (code, msg) == (235, b"2.7.0 Authentication successful")
        refused = s.sendmail("alice@example.test", ["bob@example.test"],
                             message(t))
        assert refused == {}, refused
    m = find_message(t)
    assert b"with ESMTPSA id" in m and b"(authenticated user alice)" in m, m
    assert b"\r\nDate: " in m and b"\r\nMessage-ID: <" in m, m
    # LOGIN, and PLAIN without an initial response (334 first)
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.starttls(context=tls_context())
        s.ehlo()
        s.user, s.password = "bob", "builder"
        code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert code == 235
    with smtplib.SMTP("127.0.0.1", Q.ports["submission"],
                      local_hostname=HELO, timeout=10) as s:
        s.starttls(context=tls_context())
        s.ehlo()
        s.user, s.password = "alice", "wonderland"
        code, _ = s.auth("PLAIN", s.auth_plain, initial_response_ok=False)
        assert code == 235
        # RFC 4954 4: a second AUTH is refused
        code, _ = s.docmd("AUTH", "PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=")
        assert code == 503, code


def test_smtplib_implicit_tls_and_relaying():
    """RFC 8314 submissions; an authenticated user relays (queued)."""
    t = token()
    with smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                          local_hostname=HELO, context=tls_context(),
                          timeout=10) as s:
        s.ehlo()
        assert "PLAIN" in s.esmtp_features["auth"], s.esmtp_features
        s.login("alice", "wonderland")
        hdr = (f"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
               f"Message-ID: <{t}@client.example.test>\r\n")
        refused = s.sendmail("alice@example.test",
                             ["friend@elsewhere.example"],
                             message(t, hdr))
        assert refused == {}, refused
        # sending as someone else: RFC 6409 6.1
        code, msg = s.mail("bob@example.test")
        assert (code, msg[:5]) == (550, b"5.7.1"), (code, msg)
    m = find_message(t, where="queue")
    assert b"rcpt <friend@elsewhere.example>" in m, m
    assert m.count(b"Message-ID:") == 1 and m.count(b"\r\nDate:") == 1, m
    # without AUTH the same recipient is relaying, refused
    with smtplib.SMTP("127.0.0.1", Q.ports["smtp"], local_hostname=HELO,
                      timeout=10) as s:
        s.ehlo()
        s.mail("alice@example.test")
        assert s.rcpt("friend@elsewhere.example") == \
            (550, b"5.7.1 Relaying denied")


def test_smtplib_wrong_password():
    with smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                          local_hostname=HELO, context=tls_context(),
                          timeout=10) as s:
        s.ehlo()
        try:
            s.login("alice", "not-her-password")
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535, e
            assert e.smtp_error.startswith(b"5.7.8"), e
        else:
            raise AssertionError("login with a wrong password succeeded")
        code, _ = s.mail("alice@example.test")
        assert code == 530, code


def curl_send(url, user, t, extra=()):
    return run(["curl", "-sSv", "--cacert", Q.cert, "--user", user,
                "--mail-from", "alice@example.test",
                "--mail-rcpt", "bob@example.test", "-T", "-", *extra,
                url], stdin=message(t))


def test_curl_starttls_and_smtps():
    sub, subs = Q.ports["submission"], Q.ports["submissions"]
    t1, t2 = token(), token()
    r = curl_send(f"smtp://127.0.0.1:{sub}/{HELO}", "alice:wonderland", t1,
                  ["--ssl-reqd"])
    assert r.returncode == 0, r.stderr
    assert "235 2.7.0" in r.stderr, r.stderr
    r = curl_send(f"smtps://127.0.0.1:{subs}/{HELO}", "alice:wonderland", t2,
                  ["--login-options", "AUTH=LOGIN"])
    assert r.returncode == 0, r.stderr
    assert "AUTH LOGIN" in r.stderr, r.stderr
    for t in (t1, t2):
        assert b"(authenticated user alice)" in find_message(t)
    r = curl_send(f"smtps://127.0.0.1:{subs}/{HELO}", "alice:wrong", token())
    assert r.returncode == 67, (r.returncode, r.stderr)  # login denied
    assert "535 5.7.8" in r.stderr, r.stderr


def swaks(mech, password, t, port_name="submission"):
    return run(["swaks", "--server", "127.0.0.1",
                "--port", str(Q.ports[port_name]), "--helo", HELO,
                "--from", "alice@example.test", "--to", "bob@example.test",
                "--tls", "--tls-verify", "--tls-ca-path", Q.cert,
                "--auth", mech, "--auth-user", "alice",
                "--auth-password", password,
                "--header", f"Subject: {t}", "--body", "from swaks"])


def test_swaks_plain_and_login():
    for mech in ("PLAIN", "LOGIN"):
        t = token()
        r = swaks(mech, "wonderland", t)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "<~  235 2.7.0 Authentication successful" in r.stdout, \
            r.stdout
        assert b"with ESMTPSA" in find_message(t)
        r = swaks(mech, "wrong", token())
        assert r.returncode != 0, r.stdout
        assert "535 5.7.8 Authentication credentials invalid" in r.stdout, \
            r.stdout


def msmtp(auth, password, t, port_name="submission"):
    starttls = "on" if port_name == "submission" else "off"
    return run(["msmtp", "--host=127.0.0.1",
                f"--port={Q.ports[port_name]}", "--tls=on",
                f"--tls-starttls={starttls}", f"--tls-trust-file={Q.cert}",
                f"--auth={auth}", "--user=alice",
                f"--passwordeval=echo {password}", f"--domain={HELO}",
                "--from=alice@example.test", "--debug",
                "bob@example.test"], stdin=message(t))


def test_msmtp_scram_and_plain():
    if shutil.which("msmtp") is None:
        raise AssertionError("msmtp is not installed "
                             "(scripts/install-deps.sh --test)")
    t = token()
    r = msmtp("scram-sha-256", "wonderland", t)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "AUTH SCRAM-SHA-256" in out and "235 2.7.0" in out, out
    assert b"(authenticated user alice)" in find_message(t)
    t = token()
    r = msmtp("plain", "wonderland", t, "submissions")
    assert r.returncode == 0, r.stdout + r.stderr
    find_message(t)
    r = msmtp("scram-sha-256", "wrong", token())
    assert r.returncode != 0, r.stdout + r.stderr
    assert "535 5.7.8" in r.stdout + r.stderr, r.stdout + r.stderr


def test_disconnect_during_auth():
    """A client gone while its password is checked on the pool, or while
    its 535 waits for the failure delay: the session is freed safely and
    the server carries on."""
    ctx = tls_context()
    for i in range(6):
        raw = socket.create_connection(("127.0.0.1", Q.ports["submissions"]),
                                       10)
        with ctx.wrap_socket(raw, server_hostname="localhost") as c:
            recv_reply(c)
            c.sendall(b"EHLO c\r\nAUTH PLAIN " +
                      (b"AGFsaWNlAHdvbmRlcmxhbmQ=" if i % 2 else
                       b"AGFsaWNlAGJ1aWxkZXI=") + b"\r\n")
            recv_reply(c)  # EHLO; close before the AUTH is answered
    with smtplib.SMTP_SSL("127.0.0.1", Q.ports["submissions"],
                          local_hostname=HELO, context=ctx, timeout=10) as s:
        assert s.login("alice", "wonderland")[0] == 235
    assert Q.proc.poll() is None, "quilld exited"


def test_plaintext_allowed_by_config():
    """auth.plaintext_without_tls: AUTH offered before TLS too."""
    with Quilld(EXTRA + "  plaintext_without_tls: true\n") as q:
        with smtplib.SMTP("127.0.0.1", q.ports["submission"],
                          local_hostname=HELO, timeout=10) as s:
            s.ehlo()
            assert s.esmtp_features["auth"].split() == \
                ["SCRAM-SHA-256", "PLAIN", "LOGIN"], s.esmtp_features
            s.login("alice", "wonderland")
            t = token()
            s.sendmail("alice@example.test", ["bob@example.test"],
                       message(t))
        m = find_message(t, q)
        assert b"with ESMTPA id" in m, m


def test_per_ip_limit():
    """limits.max_per_ip: the next connection gets 421 4.7.0 and is
    closed (RFC 5321 3.8), on plain and implicit-TLS listeners."""
    with Quilld("limits:\n  max_per_ip: 3\n") as q:
        held = []
        try:
            for _ in range(3):
                c = socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                             10)
                held.append(c)
                assert recv_reply(c).startswith("220 ")
            with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                          10) as c:
                r = recv_reply(c)
                assert r.startswith("421 4.7.0 mx.example.test Too many "
                                    "connections"), r
                assert c.recv(100) == b""
            ctx = tls_context(q)
            with socket.create_connection(
                    ("127.0.0.1", q.ports["submissions"]), 10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as c:
                    r = recv_reply(c)
                    assert r.startswith("421 4.7.0"), r
        finally:
            for c in held:
                c.close()
        assert "reason=max_per_ip" in q.read_log()


if __name__ == "__main__":
    Q = Quilld(EXTRA)
    try:
        run_cases([test_auth_offered_only_after_starttls,
                   test_smtplib_plain_and_login_starttls,
                   test_smtplib_implicit_tls_and_relaying,
                   test_smtplib_wrong_password,
                   test_curl_starttls_and_smtps,
                   test_swaks_plain_and_login,
                   test_msmtp_scram_and_plain,
                   test_disconnect_during_auth,
                   test_plaintext_allowed_by_config,
                   test_per_ip_limit])
    finally:
        Q.stop()
