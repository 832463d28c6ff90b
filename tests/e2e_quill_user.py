#!/usr/bin/env python3
"""e2e_quill_user.py - end-to-end test of `quill user` (add/check/passwd/list).

Runs the built quill binary ($QUILL) in a scratch directory: adds alice and
bob, checks their passwords, refuses a duplicate, and reads the written
passwd-file back as Dovecot's passwd-file format with a regular expression
(and mode 0600). Where `openssl passwd` is installed, the SHA512-CRYPT hash
is also recomputed by OpenSSL, an implementation we did not write.

Python standard library only. Exit status 0 if every check passed.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

QUILL = os.environ.get("QUILL")

# user:{SCHEME}hash[:uid:gid:gecos:home[:shell[:extra_fields]]]
DOVECOT_LINE = re.compile(
    r"^(?P<user>[!-9;-~]{1,64}):\{(?P<scheme>[A-Z0-9._-]+)\}(?P<hash>[^:]*)"
    r"(?::(?P<uid>\d*)(?::(?P<gid>\d*)(?::(?P<gecos>[^:]*)"
    r"(?::(?P<home>[^:]*)(?::(?P<shell>[^:]*)(?::(?P<extra>.*))?)?)?)?)?)?$"
)
SHA512_CRYPT = re.compile(r"^\$6\$(?P<salt>[./0-9A-Za-z]{1,16})\$[./0-9A-Za-z]{86}$")

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"FAIL - {name}" + (f": {detail}" if detail else ""))


def quill(args, stdin="", cwd=None):
    return subprocess.run(
        [QUILL] + args, input=stdin.encode(), capture_output=True,
        cwd=cwd, timeout=60)


def show(r):
    return (f"status {r.returncode}, stdout {r.stdout.decode()!r}, "
            f"stderr {r.stderr.decode()!r}")


def test_add_and_check(d):
    pw = os.path.join(d, "passwd")
    r = quill(["user", "add", "--file", pw, "alice"], "wonderland\n")
    check("add alice", r.returncode == 0, show(r))
    r = quill(["user", "add", "--file", pw, "--home", "/srv/mail/bob", "bob"],
              "builder\n")
    check("add bob with a home", r.returncode == 0, show(r))
    for user, password, want in [("alice", "wonderland", "ok"),
                                 ("alice", "wonderlan", "failed"),
                                 ("bob", "builder", "ok"),
                                 ("bob", "wonderland", "failed"),
                                 ("nobody", "builder", "failed")]:
        r = quill(["user", "check", "--file", pw, user], password + "\n")
        out = r.stdout.decode().strip()
        status = 0 if want == "ok" else 1
        check(f"check {user}/{password} -> {want}",
              out == want and r.returncode == status, show(r))
    r = quill(["user", "add", "--file", pw, "alice"], "other\n")
    check("duplicate add fails with status 1",
          r.returncode == 1 and b"already exists" in r.stderr, show(r))
    r = quill(["user", "check", "--file", pw, "alice"], "wonderland\n")
    check("duplicate add left alice alone", r.stdout == b"ok\n", show(r))
    return pw


def test_file_format(pw):
    mode = stat.S_IMODE(os.stat(pw).st_mode)
    check("passwd-file mode is 0600", mode == 0o600, oct(mode))
    with open(pw, encoding="ascii") as f:
        lines = f.read().split("\n")
    check("file ends with a newline", lines[-1] == "", repr(lines[-1:]))
    entries = {}
    for line in lines[:-1]:
        m = DOVECOT_LINE.match(line)
        check(f"Dovecot format: {line[:40]}...", m is not None, line)
        if m:
            entries[m["user"]] = m
    check("two users", sorted(entries) == ["alice", "bob"], str(entries))
    for user in ("alice", "bob"):
        m = entries.get(user)
        ok = m is not None and m["scheme"] == "SHA512-CRYPT" and \
            SHA512_CRYPT.match(m["hash"]) is not None
        check(f"{user} has a SHA512-CRYPT hash", ok, m and m.group(0))
    bob = entries.get("bob")
    check("bob's home field", bob is not None and bob["home"] == "/srv/mail/bob",
          bob and bob.group(0))
    alice = entries.get("alice")
    if alice is not None:
        openssl_check(alice["hash"], "wonderland")


def openssl_check(hash_, password):
    """Recompute a SHA512-CRYPT hash with `openssl passwd -6`."""
    openssl = shutil.which("openssl")
    m = SHA512_CRYPT.match(hash_)
    if openssl is None or m is None:
        print("skip - openssl passwd cross-check")
        return
    r = subprocess.run([openssl, "passwd", "-6", "-salt", m["salt"], "-stdin"],
                       input=password.encode() + b"\n", capture_output=True,
                       timeout=60)
    check("openssl passwd -6 computes the same hash",
          r.returncode == 0 and r.stdout.decode().strip() == hash_,
          f"{r.stdout!r} vs {hash_!r}")


def test_passwd_and_list(pw):
    r = quill(["user", "passwd", "--file", pw, "--scheme", "SHA256-CRYPT",
               "alice"], "looking-glass\n")
    check("passwd alice", r.returncode == 0, show(r))
    r = quill(["user", "check", "--file", pw, "alice"], "looking-glass\n")
    check("new password works", r.stdout == b"ok\n" and r.returncode == 0,
          show(r))
    r = quill(["user", "check", "--file", pw, "alice"], "wonderland\n")
    check("old password fails", r.stdout == b"failed\n" and r.returncode == 1,
          show(r))
    r = quill(["user", "passwd", "--file", pw, "carol"], "x\n")
    check("passwd of an unknown user fails", r.returncode == 1, show(r))
    r = quill(["user", "list", "--file", pw])
    check("list", r.returncode == 0 and r.stdout ==
          b"alice\t{SHA256-CRYPT}\t-\nbob\t{SHA512-CRYPT}\t/srv/mail/bob\n",
          show(r))


def test_usage_and_defaults(d):
    for args in (["user", "add"], ["user", "add", "a", "b"], ["user", "frob"],
                 [], ["user", "list", "--home", "/x"],
                 ["user", "add", "--scheme", "MD5", "x"],
                 ["user", "add", "--home", "relative", "x"]):
        r = quill(args, "pw\n", cwd=d)
        check(f"usage error {args} -> 2",
              r.returncode == 2 and r.stderr != b"", show(r))
    r = quill(["user", "add", "carol"], "\n", cwd=d)
    check("empty password refused", r.returncode == 1, show(r))
    r = quill(["user", "add", "dave"], "pw\n", cwd=d)
    default = os.path.join(d, "var", "passwd")
    check("default file var/passwd", r.returncode == 0 and
          os.path.exists(default), show(r))
    r = quill(["user", "check", "dave"], "pw\r\n", cwd=d)
    check("CR LF ends a password line too", r.stdout == b"ok\n", show(r))
    r = quill(["--version"])
    check("--version", r.returncode == 0 and
          re.match(rb"^quill \S+\n$", r.stdout) is not None, show(r))
    r = quill(["--help"])
    check("--help", r.returncode == 0 and b"quill user" in r.stdout, show(r))


def main():
    if not QUILL or not os.access(QUILL, os.X_OK):
        print(f"QUILL must name the quill binary (got {QUILL!r})")
        return 2
    d = tempfile.mkdtemp(prefix="e2e_quill_user.")
    try:
        pw = test_add_and_check(d)
        test_file_format(pw)
        test_passwd_and_list(pw)
        test_usage_and_defaults(d)
    except (OSError, subprocess.SubprocessError) as e:
        check("no exception", False, repr(e))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
