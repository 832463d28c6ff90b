"""e2e_pop3_clients.py - quilld's POP3 server driven by clients nobody here
wrote: python3 poplib, curl, fetchmail and mpop, over STLS (RFC 2595) and
implicit TLS (RFC 8314), with USER/PASS, AUTH PLAIN, AUTH LOGIN and
SCRAM-SHA-256 (RFC 5034). Each client retrieves a known message, put into
the store with `quill store append`, and its bytes are compared: lines
starting with "." arrive whole (byte-stuffing undone), LF line ends as
CRLF (RFC 1939 sections 3 and 11). Also: a message of several megabytes
streamed whole, the maildrop lock between sessions (RFC 1939 section 4),
and DELE taking effect only on QUIT (section 6).
"""
import base64
import os
import poplib
import shutil
import signal
import ssl
import subprocess
import tempfile
import time

from quilltest import QUILL, Quilld, run_cases

Q = None  # one server for every case in this file
MSG = (b"Subject: e2e pop3 message\n"
       b"From: <sender@client.example.test>\n"
       b"Message-ID: <e2e.pop3@client.example.test>\n"
       b"\n"
       b".a line that starts with a dot\n"
       b"..two dots\n"
       b".\n"
       b"the last line\n")
MSG_CRLF = MSG.replace(b"\n", b"\r\n")
SIZE = len(MSG_CRLF)  # what STAT, LIST and RETR say (RFC 1939 11)


def tls_context():
    return ssl.create_default_context(cafile=Q.cert)


def mail_root(user):
    return os.path.join(Q.state, "mail", user)


def store_append(user, data):
    r = subprocess.run([QUILL, "store", "append", "--root", mail_root(user),
                        "-"], input=data, capture_output=True, timeout=30)
    assert r.returncode == 0, r


def add_user(user, password, scheme):
    r = subprocess.run([QUILL, "user", "add", "--file",
                        os.path.join(Q.state, "passwd"), "--scheme", scheme,
                        user], input=password.encode(), capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r


def reload_users():
    before = Q.read_log().count("reloaded")
    Q.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while Q.read_log().count("reloaded") == before:
        assert time.time() < deadline, "no reload"
        time.sleep(0.05)


def stls_login(user="alice", password="wonderland"):
    p = poplib.POP3("127.0.0.1", Q.ports["pop3"], timeout=20)
    p.stls(tls_context())
    p.user(user)
    p.pass_(password)
    return p


def test_poplib_stls_user_pass():
    p = poplib.POP3("127.0.0.1", Q.ports["pop3"], timeout=20)
    assert p.getwelcome().startswith(b"+OK Quill POP3 server ready <")
    caps = p.capa()
    for cap in ("TOP", "UIDL", "USER", "STLS", "RESP-CODES",
                "AUTH-RESP-CODE", "PIPELINING"):
        assert cap in caps, caps
    assert "PLAIN" in caps["SASL"], caps
    p.stls(tls_context())
    assert p.sock.version() in ("TLSv1.2", "TLSv1.3"), p.sock.version()
    assert "STLS" not in p.capa()
    p.user("alice")
    assert p.pass_("wonderland").startswith(b"+OK")
    assert p.stat() == (1, SIZE), p.stat()
    resp, lines, octets = p.retr(1)
    assert resp == b"+OK %d octets" % SIZE, resp
    assert b"\r\n".join(lines) + b"\r\n" == MSG_CRLF, lines
    resp, lines, _ = p.top(1, 0)
    assert lines == MSG.split(b"\n\n")[0].split(b"\n") + [b""], lines
    uidl = p.uidl(1)
    assert uidl.startswith(b"+OK 1 ") and len(uidl.split()[2]) == 16, uidl
    assert p.quit().startswith(b"+OK")


def test_poplib_pop3s_auth_plain_and_login():
    p = poplib.POP3_SSL("127.0.0.1", Q.ports["pop3s"], context=tls_context(),
                        timeout=20)
    assert "STLS" not in p.capa()
    ir = base64.b64encode(b"\0alice\0wonderland").decode()
    assert p._shortcmd("AUTH PLAIN " + ir).startswith(b"+OK")
    _, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == MSG_CRLF
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", Q.ports["pop3s"], context=tls_context(),
                        timeout=20)
    assert p._shortcmd("AUTH LOGIN") == b"+ VXNlcm5hbWU6"
    assert p._shortcmd(base64.b64encode(b"alice").decode()) == \
        b"+ UGFzc3dvcmQ6"
    assert p._shortcmd(base64.b64encode(b"wonderland").decode()) \
        .startswith(b"+OK")
    assert p.stat() == (1, SIZE)
    p.quit()


def test_poplib_wrong_password_auth_code():
    p = poplib.POP3_SSL("127.0.0.1", Q.ports["pop3s"], context=tls_context(),
                        timeout=20)
    p.user("alice")
    try:
        p.pass_("not-the-password")
        raise AssertionError("wrong password accepted")
    except poplib.error_proto as e:
        assert e.args[0] == b"-ERR [AUTH] Authentication failed", e
    p.user("alice")
    assert p.pass_("wonderland").startswith(b"+OK")
    p.quit()


def curl(url, *extra):
    r = subprocess.run(["curl", "-sS", "--cacert", Q.cert, "-u",
                        "alice:wonderland", *extra, url],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r
    return r.stdout


def test_curl_pop3_stls():
    got = curl("pop3://127.0.0.1:%d/1" % Q.ports["pop3"], "--ssl-reqd")
    assert got == MSG_CRLF, got


def test_curl_pop3s():
    got = curl("pop3s://127.0.0.1:%d/1" % Q.ports["pop3s"])
    assert got == MSG_CRLF, got
    assert curl("pop3s://127.0.0.1:%d/" % Q.ports["pop3s"]) == \
        b"1 %d\r\n" % SIZE
    got = curl("pop3s://127.0.0.1:%d/" % Q.ports["pop3s"], "-X", "UIDL")
    assert got.startswith(b"1 ") and len(got) == 2 + 16 + 2, got


def fetchmail(implicit):
    d = tempfile.mkdtemp(prefix="quill-fetchmail-")
    try:
        out = os.path.join(d, "msg")
        rc = os.path.join(d, "rc")
        with open(rc, "w") as f:
            # invisible: no Received header, so the bytes can be compared
            f.write("set no syslog\nset invisible\n"
                    f"poll 127.0.0.1 service {Q.ports['pop3s' if implicit else 'pop3']}"
                    " protocol POP3 uidl\n"
                    "  user alice there with password wonderland is root here\n"
                    f"  {'ssl ' if implicit else ''}sslproto tls1.2+ "
                    f"sslcommonname localhost sslcertck sslcertfile {Q.cert}\n"
                    "  keep fetchall\n"
                    f"  mda \"/bin/sh -c 'cat > {out}'\"\n")
        os.chmod(rc, 0o600)
        env = dict(os.environ, FETCHMAILHOME=d, HOME=d)
        r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v",
                            "-i", os.path.join(d, "ids"), "--pidfile",
                            os.path.join(d, "pid")], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        log = r.stdout + r.stderr
        assert ("upgrade to TLS succeeded" in log) != implicit, log
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_fetchmail_stls():
    assert fetchmail(implicit=False) == MSG


def test_fetchmail_pop3s():
    assert fetchmail(implicit=True) == MSG


def mpop(implicit, user, password, auth):
    d = tempfile.mkdtemp(prefix="quill-mpop-")
    try:
        out = os.path.join(d, "msg")
        rc = os.path.join(d, "rc")
        with open(rc, "w") as f:
            f.write("account default\nhost 127.0.0.1\n"
                    f"port {Q.ports['pop3s' if implicit else 'pop3']}\n"
                    "tls on\n"
                    f"tls_starttls {'off' if implicit else 'on'}\n"
                    f"tls_trust_file {Q.cert}\n"
                    "tls_host_override localhost\n"
                    f"auth {auth}\nuser {user}\npassword {password}\n"
                    f"keep on\nuidls_file {d}/uidls\n"
                    "received_header off\n"
                    f"delivery mda \"cat > {out}\"\n")
        os.chmod(rc, 0o600)
        r = subprocess.run(["mpop", "-C", rc, "-d"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert ("--> STLS" in r.stdout) != implicit, r.stdout
        assert f"--> AUTH {auth.upper()}" in r.stdout or auth == "user", \
            r.stdout
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_mpop_stls_user():
    assert mpop(False, "alice", "wonderland", "user") == MSG


def test_mpop_pop3s_plain():
    assert mpop(True, "alice", "wonderland", "plain") == MSG


def test_mpop_scram_sha256():
    """SCRAM's server signature goes as a "+ " challenge answered empty
    before the +OK (RFC 5034 section 4), as mpop expects."""
    add_user("carol", "dormouse-pw", "SCRAM-SHA-256")
    reload_users()
    store_append("carol", MSG)
    assert mpop(True, "carol", "dormouse-pw", "scram-sha-256") == MSG
    assert mpop(False, "carol", "dormouse-pw", "scram-sha-256") == MSG


def test_lock_and_update():
    """Second login while the maildrop is held: -ERR [IN-USE]. DELE then
    a dropped connection keeps the message; DELE then QUIT removes it."""
    store_append("bob", b"Subject: for bob\n\nbody\n")
    p = stls_login("bob", "builder")
    assert p.stat()[0] == 1
    q = poplib.POP3("127.0.0.1", Q.ports["pop3"], timeout=20)
    q.stls(tls_context())
    q.user("bob")
    try:
        q.pass_("builder")
        raise AssertionError("second login while locked")
    except poplib.error_proto as e:
        assert e.args[0].startswith(b"-ERR [IN-USE] "), e
    q.quit()
    assert p.dele(1).startswith(b"+OK")
    p.close()  # no QUIT: no UPDATE (RFC 1939 6)
    deadline = time.time() + 10
    while True:
        try:
            p = stls_login("bob", "builder")
            break
        except poplib.error_proto as e:
            assert b"IN-USE" in e.args[0] and time.time() < deadline, e
            time.sleep(0.1)
    assert p.stat()[0] == 1
    p.dele(1)
    assert p.quit().startswith(b"+OK Quill POP3 server signing off (1 ")
    p = stls_login("bob", "builder")
    assert p.stat() == (0, 0)
    p.quit()


def test_big_message_streamed():
    """A message of about 6 MB with stuffed lines goes out whole, with
    the size STAT announced, however the server chunks it."""
    line = b".%07d " + b"x" * 90 + b"\n"
    body = b"".join(line % i for i in range(60000))
    big = b"Subject: big\n\n" + body
    store_append("dave", big)
    add_user("dave", "dave-pw", "SHA512-CRYPT")
    reload_users()
    p = poplib.POP3_SSL("127.0.0.1", Q.ports["pop3s"], context=tls_context(),
                        timeout=60)
    p.user("dave")
    p.pass_("dave-pw")
    want = big.replace(b"\n", b"\r\n")
    assert p.stat() == (1, len(want)), p.stat()
    _, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == want
    p.quit()


def main():
    global Q
    Q = Quilld(listeners=[("pop3", "pop3", "127.0.0.1", "starttls"),
                          ("pop3s", "pop3", "127.0.0.1", "implicit")])
    try:
        store_append("alice", MSG)
        run_cases([test_poplib_stls_user_pass,
                   test_poplib_pop3s_auth_plain_and_login,
                   test_poplib_wrong_password_auth_code,
                   test_curl_pop3_stls, test_curl_pop3s,
                   test_fetchmail_stls, test_fetchmail_pop3s,
                   test_mpop_stls_user, test_mpop_pop3s_plain,
                   test_mpop_scram_sha256, test_lock_and_update,
                   test_big_message_streamed])
    finally:
        Q.stop()


if __name__ == "__main__":
    main()
