"""e2e_pop3_config.py - quilld's POP3 server under its pop3: settings
(docs/quilld.md): cleartext logins refused without TLS (RFC 2595 section
2.3, RFC 5034 section 4), APOP against a {PLAIN} secret (RFC 1939 section
7), the autologout timer apart from the SMTP idle timeout (RFC 1939
section 3: at least 10 minutes), LOGIN-DELAY (RFC 2449 section 6.5),
max_errors, SIGTERM without UPDATE (section 6), the config's limits, and
the POP3 scenarios against quilld on the mbox store.
"""
import hashlib
import os
import poplib
import re
import signal
import socket
import ssl
import subprocess
import time

from quilltest import QUILL, QUILLD, Quilld, run_cases

LISTENERS = [("pop3", "pop3", "127.0.0.1", "starttls"),
             ("pop3s", "pop3", "127.0.0.1", "implicit")]


def tls_context(q):
    return ssl.create_default_context(cafile=q.cert)


def add_user(q, user, password, scheme):
    r = subprocess.run([QUILL, "user", "add", "--file",
                        os.path.join(q.state, "passwd"), "--scheme", scheme,
                        user], input=password.encode(), capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r
    before = q.read_log().count("reloaded")
    q.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while q.read_log().count("reloaded") == before:
        assert time.time() < deadline, "no reload"
        time.sleep(0.05)


def store_append(q, user, data):
    r = subprocess.run([QUILL, "store", "append", "--root",
                        os.path.join(q.state, "mail", user), "-"],
                       input=data, capture_output=True, timeout=30)
    assert r.returncode == 0, r


def expect_err(fn, prefix):
    try:
        fn()
    except poplib.error_proto as e:
        assert e.args[0].startswith(prefix), e
        return
    raise AssertionError(f"no {prefix!r}")


def test_cleartext_never():
    """cleartext_auth: never - before TLS no USER and no PLAIN/LOGIN are
    offered or taken; after STLS both work (RFC 2595 2.3, RFC 5034 4)."""
    with Quilld(listeners=LISTENERS,
                extra_yaml="pop3:\n  cleartext_auth: never\n") as q:
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        caps = p.capa()
        assert "USER" not in caps and caps["SASL"] == ["SCRAM-SHA-256"], caps
        expect_err(lambda: p.user("alice"), b"-ERR Cleartext login not "
                   b"allowed")
        expect_err(lambda: p._shortcmd("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="),
                   b"-ERR [AUTH] Cleartext mechanism not allowed")
        p.stls(tls_context(q))
        caps = p.capa()
        assert "USER" in caps and "PLAIN" in caps["SASL"], caps
        p.user("alice")
        assert p.pass_("wonderland").startswith(b"+OK")
        p.quit()


def apop_digest(greeting, secret):
    ts = re.search(rb"<[^>]+>", greeting).group(0)
    return hashlib.md5(ts + secret.encode()).hexdigest()


def test_apop():
    """APOP with the MD5 of the greeting's timestamp and a {PLAIN}
    password (RFC 1939 section 7); other schemes fail like a wrong
    digest; each greeting has its own timestamp."""
    with Quilld(listeners=LISTENERS,
                extra_yaml="users:\n  allow_plain: true\n") as q:
        add_user(q, "dave", "apop-secret", "PLAIN")
        store_append(q, "dave", b"Subject: apop\n\nhello\n")
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        first = p.getwelcome()
        expect_err(lambda: p._shortcmd(
            "APOP dave " + apop_digest(first, "wrong")),
            b"-ERR [AUTH] Authentication failed")
        expect_err(lambda: p._shortcmd(
            "APOP alice " + apop_digest(first, "wonderland")),
            b"-ERR [AUTH] Authentication failed")
        assert p._shortcmd("APOP dave " + apop_digest(first, "apop-secret")) \
            .startswith(b"+OK Maildrop locked and ready: 1 messages")
        p.quit()
        # poplib's own apop() computes the digest itself
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        assert p.getwelcome() != first
        assert p.apop("dave", "apop-secret").startswith(b"+OK")
        p.quit()
    with Quilld(listeners=LISTENERS, extra_yaml="pop3:\n  apop: false\n") as q:
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        assert b"<" not in p.getwelcome()
        expect_err(lambda: p._shortcmd("APOP alice " + "0" * 32),
                   b"-ERR APOP not available")
        p.quit()


def test_autologout_not_smtp_idle_timeout():
    """The POP3 connection's timer is pop3.autologout (10 minutes at
    least), not limits.idle_timeout: with that (and smtp.command_timeout)
    at 1 s an SMTP session is closed, a POP3 one still answers after 3 s
    of silence."""
    with Quilld(listeners=LISTENERS + [("smtp", "smtp", "127.0.0.1",
                                        "starttls")],
                extra_yaml="limits:\n  idle_timeout: 1\n"
                           "smtp:\n  command_timeout: 1\n") as q:
        smtp = socket.create_connection(("127.0.0.1", q.ports["smtp"]), 10)
        smtp.recv(512)
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        p.user("alice")
        p.pass_("wonderland")
        time.sleep(3)
        smtp.settimeout(10)
        data = smtp.recv(512)
        assert data.startswith(b"421 ") or data == b"", data
        assert p.noop().startswith(b"+OK")
        p.quit()
        smtp.close()
        assert "idle_timeout seconds=1" in q.read_log()


def test_config_limits():
    """RFC 1939 3 (autologout >= 600 s) and RFC 2449 4 (lines >= 255)."""
    q = Quilld(start=False)
    try:
        cases = [("pop3:\n  autologout: 599\n",
                  r":2:15: key 'pop3.autologout': expected an integer "
                  r"between 600 and 86400"),
                 ("pop3:\n  line_max: 254\n", r"key 'pop3.line_max'"),
                 ("pop3:\n  cleartext_auth: sometimes\n",
                  r"key 'pop3.cleartext_auth': unknown value 'sometimes'"),
                 ("pop3:\n  bogus: 1\n", r"unknown key 'pop3.bogus'")]
        for text, pattern in cases:
            path = os.path.join(q.dir, "bad.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([QUILLD, "-c", path, "--check-config"],
                               capture_output=True, text=True, timeout=10)
            assert r.returncode == 2 and re.search(pattern, r.stderr), \
                (text, r.stderr)
    finally:
        q.stop()


def test_login_delay():
    """LOGIN-DELAY 30 is announced and enforced: a login right after the
    last gets -ERR [LOGIN-DELAY] (RFC 2449 6.5, 8.1.1)."""
    with Quilld(listeners=LISTENERS,
                extra_yaml="pop3:\n  login_delay: 30\n") as q:
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        assert p.capa()["LOGIN-DELAY"] == ["30"]
        p.user("alice")
        p.pass_("wonderland")
        p.quit()
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        p.user("alice")
        expect_err(lambda: p.pass_("wonderland"), b"-ERR [LOGIN-DELAY] ")
        p.quit()


def test_max_errors_and_sigterm():
    """max_errors closes a session that only errs; SIGTERM ends a session
    with -ERR [SYS/TEMP] and no UPDATE (RFC 1939 6)."""
    with Quilld(listeners=LISTENERS,
                extra_yaml="pop3:\n  max_errors: 3\n") as q:
        s = socket.create_connection(("127.0.0.1", q.ports["pop3"]), 10)
        s.settimeout(10)
        s.recv(512)
        s.sendall(b"A\r\nB\r\nC\r\nD\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data == b"-ERR Unknown command\r\n" * 3, data
        s.close()
        store_append(q, "alice", b"Subject: kept\n\nbody\n")
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        p.user("alice")
        p.pass_("wonderland")
        p.dele(1)
        q.signal(signal.SIGTERM)
        line = p.file.readline()
        assert line == b"-ERR [SYS/TEMP] Server shutting down\r\n", line
        q.proc.wait(timeout=20)
        q.start()
        p = poplib.POP3("127.0.0.1", q.ports["pop3"], timeout=20)
        p.user("alice")
        p.pass_("wonderland")
        assert p.stat()[0] == 1
        p.quit()


def test_scenarios_on_mbox():
    """The POP3 scenarios against a quilld keeping mail in mbox files
    (users.store: mbox): none may fail."""
    harness = os.path.join(os.path.dirname(QUILLD), "..", "harness",
                           "quill-harness")
    src = os.environ.get("QUILL_SOURCE", os.getcwd())
    q = Quilld(start=False)
    try:
        extra = os.path.join(q.dir, "mbox.yaml")
        with open(extra, "w") as f:
            f.write("users:\n  store: mbox\n")
        env = dict(os.environ, QUILL_HARNESS_QUILLD_CONFIG=extra,
                   QUILLD=QUILLD)
        r = subprocess.run([harness, "run", "--root", src, "-j", "2",
                            os.path.join(src, "scenarios", "pop3")],
                           env=env, capture_output=True, text=True,
                           timeout=280)
        m = re.search(r"(\d+) passed, (\d+) failed", r.stdout)
        assert r.returncode == 0 and m and m.group(2) == "0" and \
            int(m.group(1)) >= 25, r.stdout[-3000:] + r.stderr[-2000:]
    finally:
        q.stop()


if __name__ == "__main__":
    run_cases([test_cleartext_never, test_apop,
               test_autologout_not_smtp_idle_timeout, test_config_limits,
               test_login_delay, test_max_errors_and_sigterm,
               test_scenarios_on_mbox])
