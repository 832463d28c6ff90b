"""e2e_host_lifecycle.py - quilld as a daemon: dev defaults, config errors
that name file/line/key, IPv6 listeners, idle timeout (RFC 5321
4.5.3.2.7), graceful SIGTERM with 421 (RFC 5321 3.8), SIGHUP reload, and
the privilege drop after binding.
"""
import os
import re
import signal
import socket
import subprocess
import time

from quilltest import QUILLD, Quilld, recv_reply, run_cases


def test_dev_defaults():
    """`quilld --dev` in an empty directory: var/ with alice and bob,
    a self-signed certificate, ports 2525/2587/2465, LMTP on 2424 and
    POP3 on 2110/2995, a banner with how to connect, EHLO answering on
    2525 and POP3 on 2110."""
    q = Quilld(start=False)
    try:
        q.start(args=["--dev"])
        b = q.banner
        for port in ("2525", "2587", "2465", "2424", "2110", "2995"):
            assert f"127.0.0.1:{port}" in b, b
            assert f"[::1]:{port}" in b, b
        assert "curl" in b and "alice (password wonderland)" in b, b
        assert "pop3://127.0.0.1:2110/" in b, b
        assert "pop3s://127.0.0.1:2995/" in b, b
        assert b.endswith("quilld ready\n"), b
        var = os.path.join(q.dir, "var")
        with open(os.path.join(var, "passwd")) as f:
            users = [l.split(":")[0] for l in f if l.strip()]
        assert users == ["alice", "bob"], users
        assert os.stat(os.path.join(var, "tls", "key.pem")).st_mode & 0o77 == 0
        for host in ("127.0.0.1", "::1"):
            with socket.create_connection((host, 2525), 10) as s:
                assert recv_reply(s).startswith("220 mail.example.test ")
                s.sendall(b"EHLO client.example.test\r\n")
                assert "250 STARTTLS" in recv_reply(s)
            with socket.create_connection((host, 2110), 10) as s:
                assert s.recv(512).startswith(b"+OK Quill POP3 server ready")
    finally:
        q.stop()


def test_config_errors_name_file_line_key():
    q = Quilld(start=False)
    try:
        cases = [
            ("smtp:\n  line_max: abc\n",
             r":2:13: key 'smtp.line_max': expected an integer between "
             r"512 and 65536, got 'abc'"),
            ("smtp:\n  line_max: 100\n", r":2:13: key 'smtp.line_max'"),
            ("limits:\n  idle_timeout: 10\n  bogus: 1\n",
             r":3:3: unknown key 'limits.bogus'"),
            ("listeners:\n  - { protocol: gopher, port: 70 }\n",
             r":2:\d+: key 'listeners\[\]\.protocol': unknown value"),
            ("log: [\n", r":\d+:\d+: "),
            ("queue:\n  group_commit_ms: 5000\n",
             r":2:\d+: key 'queue.group_commit_ms': expected an integer "
             r"between 0 and 1000"),
        ]
        for text, pattern in cases:
            path = os.path.join(q.dir, "bad.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([QUILLD, "-c", path, "--check-config"],
                               capture_output=True, text=True, timeout=10)
            assert r.returncode == 2, (text, r)
            assert re.search(re.escape(path) + pattern, r.stderr), \
                (text, r.stderr)
        r = subprocess.run([QUILLD, "-c", q.config, "--check-config"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "ok" in r.stdout, r
    finally:
        q.stop()


def test_ipv6_and_ipv4_listeners():
    with Quilld(listeners=[("v4", "smtp", "127.0.0.1", "none"),
                           ("v6", "smtp", "::1", "none")]) as q:
        for fam, host, name in ((socket.AF_INET, "127.0.0.1", "v4"),
                                (socket.AF_INET6, "::1", "v6")):
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect((host, q.ports[name]))
                assert recv_reply(s).startswith("220 ")
                s.sendall(b"EHLO c.example\r\n")
                r = recv_reply(s)
                assert f"[{host}]" in r and "STARTTLS" not in r, r


def test_idle_timeout_421():
    with Quilld(extra_yaml="smtp:\n  command_timeout: 1\n") as q:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            recv_reply(s)
            t0 = time.time()
            r = recv_reply(s, timeout=15)
            assert r.startswith("421 4.4.2 mx.example.test Timeout"), r
            assert time.time() - t0 >= 0.9
            s.settimeout(10)
            assert s.recv(100) == b""


def test_sigterm_says_421_and_exits():
    q = Quilld()
    try:
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            recv_reply(s)
            q.signal(signal.SIGTERM)
            r = recv_reply(s)
            assert r.startswith("421 4.3.2 mx.example.test"), r
            assert q.proc.wait(timeout=20) == 0
        assert "stopping reason=SIGTERM" in q.read_log()
    finally:
        q.stop()


def test_sighup_reloads_config():
    with Quilld() as q:
        with open(q.config) as f:
            text = f.read()
        with open(q.config, "w") as f:
            f.write(text.replace("hostname: mx.example.test",
                                 "hostname: reloaded.example.test"))
        q.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reloaded file=" not in q.read_log():
            assert time.time() < deadline, q.read_log()[-2000:]
            time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            assert recv_reply(s).startswith("220 reloaded.example.test")
        # a broken file is refused and the running config kept
        with open(q.config, "a") as f:
            f.write("bogus_key: 1\n")
        q.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reload_failed" not in q.read_log():
            assert time.time() < deadline
            time.sleep(0.1)
        assert "unknown key 'bogus_key'" in q.read_log()
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            assert recv_reply(s).startswith("220 reloaded.example.test")


def test_privilege_drop():
    """Listeners are bound as root, then quilld runs as run_as."""
    if os.geteuid() != 0:
        q = Quilld(extra_yaml="run_as: nobody\n", start=False)
        try:
            q.start()
        except RuntimeError as e:
            assert "not started as root" in str(e), e
            return
        finally:
            q.stop()
        raise AssertionError("run_as accepted without root")
    q = Quilld(extra_yaml="run_as: nobody\n", start=False)
    os.chmod(q.dir, 0o755)  # let nobody reach its state directory
    with q:
        q.start()
        with open(f"/proc/{q.proc.pid}/status") as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        assert set(uids) == {"65534"}, uids
        assert os.stat(q.state).st_uid == 65534
        with socket.create_connection(("127.0.0.1", q.ports["smtp"]),
                                      10) as s:
            assert recv_reply(s).startswith("220 ")


if __name__ == "__main__":
    run_cases([test_dev_defaults, test_config_errors_name_file_line_key,
               test_ipv6_and_ipv4_listeners, test_idle_timeout_421,
               test_sigterm_says_421_and_exits, test_sighup_reloads_config,
               test_privilege_drop])
