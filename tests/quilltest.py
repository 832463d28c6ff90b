"""quilltest.py - shared helpers for the end-to-end tests.

Starts a quilld of the build under test (env QUILLD) in a scratch directory
on free loopback ports, waits until it has printed its banner (so every
listener is bound), and stops it again. Every test file runs its cases,
prints one line per case and ends with "N passed, N failed".
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

QUILLD = os.environ.get("QUILLD", "quilld")
QUILL = os.environ.get("QUILL", "quill")


_PORTS_GIVEN = set()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A free port, never one this process handed out before (the kernel
    may offer a port again as soon as the probing socket is closed)."""
    for _ in range(1000):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port
    raise RuntimeError("no fresh free port")


class Quilld:
    """One quilld in its own directory. ports: name -> port."""

    def __init__(self, extra_yaml="", listeners=None, start=True):
        self.dir = tempfile.mkdtemp(prefix="quill-e2e-")
        self.state = os.path.join(self.dir, "var")
        self.ports = {}
        if listeners is None:
            listeners = [("smtp", "smtp", "127.0.0.1", "starttls"),
                         ("submission", "submission", "127.0.0.1", "starttls"),
                         ("submissions", "submission", "127.0.0.1", "implicit")]
        lines = [f"state_dir: {self.state}",
                 "hostname: mx.example.test",
                 "log:\n  level: debug",
                 "listeners:"]
        for name, proto, addr, tls in listeners:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            self.ports[name] = free_port(fam, addr)
            lines.append(f"  - {{ name: {name}, protocol: {proto}, "
                         f"address: \"{addr}\", port: {self.ports[name]}, "
                         f"tls: {tls} }}")
        self.config = os.path.join(self.dir, "quilld.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_yaml)
        self.cert = os.path.join(self.state, "tls", "cert.pem")
        self.proc = None
        self.log_path = os.path.join(self.dir, "quilld.log")
        if start:
            self.start()

    def start(self, args=None, cwd=None):
        self.log = open(self.log_path, "ab")
        cmd = [QUILLD] + (args if args is not None else ["-c", self.config])
        self.proc = subprocess.Popen(cmd, cwd=cwd or self.dir,
                                     stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.banner = self._read_banner()

    def _read_banner(self, timeout=30):
        """Collect stdout until the banner's last line; fail on exit."""
        lines = []
        os.set_blocking(self.proc.stdout.fileno(), False)
        deadline = time.time() + timeout
        buf = b""
        while time.time() < deadline:
            chunk = self.proc.stdout.read()
            if chunk:
                buf += chunk
                if b"\nquilld ready\n" in buf:
                    return buf.decode()
            elif self.proc.poll() is not None:
                raise RuntimeError(f"quilld exited {self.proc.returncode}: "
                                   f"{self.read_log()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("quilld did not print its banner in time")

    def read_log(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def recv_reply(sock, timeout=10):
    """Read one complete SMTP reply (all its lines); return it as text."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return data.decode("latin-1")


def run_cases(cases):
    """Run test functions; print a line each and the summary; exit."""
    passed = failed = 0
    for case in cases:
        t0 = time.time()
        try:
            case()
            passed += 1
            print(f"ok   {case.__name__} ({time.time() - t0:.1f}s)")
        except Exception:
            failed += 1
            print(f"FAIL {case.__name__}")
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
