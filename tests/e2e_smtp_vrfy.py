"""e2e_smtp_vrfy.py - smtp.vrfy (docs/quilld.md): VRFY as Python's
smtplib sends it in each mode (RFC 5321 3.5.1, 3.5.3, 7.3), and the
config check of the key's values.
"""
import os
import re
import smtplib
import subprocess

from quilltest import QUILLD, Quilld, run_cases

LISTENERS = [("smtp", "smtp", "127.0.0.1", "starttls")]


def vrfy_all(mode, names):
    extra = f"smtp:\n  vrfy: \"{mode}\"\n" if mode else ""
    with Quilld(listeners=LISTENERS, extra_yaml=extra) as q:
        s = smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=20)
        s.ehlo("client.example.test")
        got = [s.verify(n) for n in names]
        s.quit()
        return got


def test_default_cannot_verify():
    """The default answers 252 whatever the argument (RFC 5321 7.3)."""
    for code, _ in vrfy_all(None, ["alice", "nobody-here"]):
        assert code == 252, code


def test_verify():
    """verify: 250 <mailbox> for a user, 550 5.1.1 for an unknown local
    part, RCPT's 550 5.7.1 for another domain without AUTH."""
    got = vrfy_all("verify", ["alice", "alice@mx.example.test",
                              "nobody-here", "x@elsewhere.example"])
    assert got[0] == (250, b"2.1.5 <alice@example.test>"), got
    assert got[1] == (250, b"2.1.5 <alice@mx.example.test>"), got
    assert got[2] == (550, b"5.1.1 User unknown"), got
    assert got[3][0] == 550 and got[3][1].startswith(b"5.7.1"), got


def test_off():
    got = vrfy_all("off", ["alice"])
    assert got == [(502, b"5.5.1 VRFY disabled")], got


def test_bad_value():
    q = Quilld(start=False)
    try:
        path = os.path.join(q.dir, "bad.yaml")
        with open(path, "w") as f:
            f.write("smtp:\n  vrfy: sometimes\n")
        r = subprocess.run([QUILLD, "-c", path, "--check-config"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and re.search(
            r"key 'smtp.vrfy': unknown value 'sometimes'", r.stderr), \
            r.stderr
    finally:
        q.stop()


if __name__ == "__main__":
    run_cases([test_default_cannot_verify, test_verify, test_off,
               test_bad_value])
