"""e2e_smtp_relay_networks.py - smtp.relay_networks (docs/quilld.md):
entries refused at load with exit status 2 and the key and entry named;
a client inside a listed prefix relays without AUTH over IPv4 and IPv6
(RFC 5321 7.9: relaying for sources known by address), logged as
smtp.relay client=... reason=network; a client outside is refused with
550 5.7.1 (RFC 5321 3.6.2); a submission listener still wants AUTH
(RFC 6409 4.3). python smtplib is the client.
"""
import os
import re
import smtplib
import socket
import subprocess

from quilltest import QUILLD, Quilld, run_cases

MSG = b"From: a@example.org\r\nSubject: relay\r\n\r\nhello\r\n"


def check_config(q, text):
    path = os.path.join(q.dir, "check.yaml")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([QUILLD, "-c", path, "--check-config"],
                          capture_output=True, text=True, timeout=10)


def test_config_entries():
    q = Quilld(start=False)
    try:
        bad = [("[10.1.2.3/8]", r"entry '10\.1\.2\.3/8': .*beyond /8"),
               ("[127.0.0.0/33]", r"entry '127\.0\.0\.0/33': prefix length"),
               ('["::1/129"]', r"entry '::1/129'"),
               ("[localhost]", r"entry 'localhost': not an IPv4 or IPv6"),
               ("127.0.0.0/8", r"expected a list"),
               ("[[1]]", r"smtp\.relay_networks")]
        for value, pattern in bad:
            r = check_config(q, f"smtp:\n  relay_networks: {value}\n")
            assert r.returncode == 2, (value, r)
            assert "smtp.relay_networks" in r.stderr, (value, r.stderr)
            assert re.search(pattern, r.stderr), (value, r.stderr)
        many = ", ".join(f"10.0.{i // 256}.{i % 256}" for i in range(257))
        r = check_config(q, f"smtp:\n  relay_networks: [{many}]\n")
        assert r.returncode == 2 and "at most 256" in r.stderr, r.stderr
        good = ('smtp:\n  relay_networks: [127.0.0.0/8, "::1/128", '
                '192.0.2.7, "2001:db8::/32", "::ffff:10.0.0.0/104"]\n')
        r = check_config(q, good)
        assert r.returncode == 0, r
    finally:
        q.stop()


def relay(host, port):
    """EHLO, MAIL, RCPT to another domain: the RCPT reply."""
    with smtplib.SMTP(host, port, timeout=10) as c:
        c.ehlo("client.example")
        c.mail("sender@example.org")
        code, text = c.rcpt("friend@elsewhere.example")
        if code == 250:
            c.docmd("DATA")
            c.send(MSG + b".\r\n")
            dcode, dtext = c.getreply()
            assert dcode == 250 and b"queued as" in dtext, (dcode, dtext)
        return code, text


def test_ipv4_network_relays():
    yaml = "smtp:\n  relay_networks: [127.0.0.0/8]\n"
    with Quilld(extra_yaml=yaml) as q:
        code, text = relay("127.0.0.1", q.ports["smtp"])
        assert code == 250, (code, text)
        log = q.read_log()
        assert re.search(r"smtp\.relay client=127\.0\.0\.1 reason=network "
                         r"to=<friend@elsewhere\.example>", log), log[-2000:]
        # the submission listener ignores the list: AUTH first
        with smtplib.SMTP("127.0.0.1", q.ports["submission"],
                          timeout=10) as c:
            c.ehlo("client.example")
            code, text = c.mail("sender@example.org")
            assert code == 530, (code, text)


def test_outside_network_refused():
    yaml = 'smtp:\n  relay_networks: [192.0.2.0/24, "::1/128"]\n'
    with Quilld(extra_yaml=yaml) as q:
        code, text = relay("127.0.0.1", q.ports["smtp"])
        assert code == 550 and text.startswith(b"5.7.1"), (code, text)
        assert "reason=network" not in q.read_log()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6_network_relays():
    if not ipv6_loopback():
        print("no IPv6 loopback: IPv6 case not run")
        return
    for nets, want in (('["::1/128"]', 250), ("[127.0.0.0/8]", 550)):
        with Quilld(extra_yaml=f"smtp:\n  relay_networks: {nets}\n",
                    listeners=[("smtp", "smtp", "::1", "none")]) as q:
            code, text = relay("::1", q.ports["smtp"])
            assert code == want, (nets, code, text)


if __name__ == "__main__":
    run_cases([test_config_entries,
               test_ipv4_network_relays,
               test_outside_network_refused,
               test_ipv6_network_relays])
