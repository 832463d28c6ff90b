"""e2e_smtp_pregreet.py - smtp.greeting_delay_ms (a client that speaks
before the 220 gets 554 5.5.1 and is closed: RFC 5321 4.3.1, 3.1) and the
SMTP timeouts smtp.command_timeout and smtp.data_timeout (RFC 5321
4.5.3.2: 421 4.4.2 and close), with python smtplib as the polite client.
"""
import smtplib
import socket

from quilltest import Quilld, recv_reply, run_cases

DELAY = "smtp:\n  greeting_delay_ms: 1500\n"
MSG = b"From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n"


def read_all(sock, timeout=15):
    """Everything the server sends until it closes."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_early_talker_gets_554_and_close():
    with Quilld(extra_yaml=DELAY) as q:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            s.sendall(b"EHLO early.example\r\n")
            data = read_all(s)
        assert data.startswith(b"554 5.5.1 "), data
        assert b"220" not in data and b"250" not in data, data
        assert data.count(b"\r\n") == 1, data
        assert "smtp.input_before_greeting" in q.read_log()


def test_polite_client_is_greeted_after_the_delay():
    with Quilld(extra_yaml=DELAY) as q:
        c = smtplib.SMTP("127.0.0.1", q.ports["smtp"], timeout=20)
        code, _ = c.ehlo("polite.example")
        assert code == 250
        refused = c.sendmail("a@example.org", ["postmaster@mx.example.test"],
                             MSG)
        assert refused == {}, refused
        c.quit()
        assert "smtp.input_before_greeting" not in q.read_log()


def test_delay_only_on_smtp_listeners():
    """Submission clients are not held back: speaking at once is fine
    there (the EHLO is answered after the 220)."""
    with Quilld(extra_yaml=DELAY) as q:
        with socket.create_connection(("127.0.0.1", q.ports["submission"]),
                                      10) as s:
            s.sendall(b"EHLO early.example\r\n")
            r = recv_reply(s)
            assert r.startswith("220 "), r
            r = recv_reply(s) if r.count("\r\n") == 1 else r
            assert "250" in r, r


def test_default_greets_at_once():
    """With the default (0) a client that speaks first is just answered."""
    with Quilld() as q:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            s.sendall(b"EHLO early.example\r\n")
            r = recv_reply(s)
            assert r.startswith("220 mx.example.test "), r
            if r.count("\r\n") == 1:
                r = recv_reply(s)
            assert "\r\n250" in r or r.startswith("250"), r
            s.sendall(b"QUIT\r\n")
            assert read_all(s).startswith(b"221 ")


def test_command_timeout_421():
    with Quilld(extra_yaml="smtp:\n  command_timeout: 1\n") as q:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            assert recv_reply(s).startswith("220 ")
            s.sendall(b"EHLO idle.example\r\n")
            assert recv_reply(s).startswith("250")
            data = read_all(s)
        assert data.startswith(b"421 4.4.2 mx.example.test Timeout"), data
        assert "idle_timeout seconds=1" in q.read_log()


def test_data_timeout_applies_in_data():
    """Inside DATA smtp.data_timeout is the limit, not command_timeout."""
    yaml = "smtp:\n  command_timeout: 600\n  data_timeout: 1\n"
    with Quilld(extra_yaml=yaml) as q:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            assert recv_reply(s).startswith("220 ")
            for cmd, want in ((b"EHLO slow.example", "250"),
                              (b"MAIL FROM:<a@example.org>", "250"),
                              (b"RCPT TO:<postmaster@mx.example.test>",
                               "250"),
                              (b"DATA", "354")):
                s.sendall(cmd + b"\r\n")
                r = recv_reply(s)
                assert r.startswith(want), (cmd, r)
            s.sendall(b"Subject: half a message\r\n")
            data = read_all(s)
        assert data.startswith(b"421 4.4.2 "), data
        log = q.read_log()
        assert "idle_timeout seconds=1" in log, log[-2000:]
        assert "idle_timeout seconds=600" not in log


if __name__ == "__main__":
    run_cases([test_early_talker_gets_554_and_close,
               test_polite_client_is_greeted_after_the_delay,
               test_delay_only_on_smtp_listeners,
               test_default_greets_at_once,
               test_command_timeout_421,
               test_data_timeout_applies_in_data])
