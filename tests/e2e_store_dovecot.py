#!/usr/bin/env python3
"""e2e_store_dovecot.py - Quill's Maildir and Dovecot 2.3 read each other.

Installs (if missing) and starts a private Dovecot through
scripts/peers/dovecot.sh, with its own state directory and free ports, so
a Dovecot peer someone else runs is not touched. Needs root (CI runs as
root): without it, or when Dovecot cannot be installed or started, the
test FAILS with the reason; it never skips.

 1. Quill writes a Maildir (`quill store append`, flags \\Seen \\Flagged, a
    keyword, a sub-folder); it is copied into alice's Maildir, owned by
    the peer's mail user; Dovecot serves it over IMAP: the same messages,
    bytes, UIDs, flags and keyword.
 2. Dovecot gets mail by LMTP for bob and flags it over IMAP; Quill
    (`quill store ls`, `quill store check`) reads a copy of bob's Maildir:
    the same UIDs, sizes, flags and keyword.
 3. `quill store convert` Maildir -> mbox -> Maildir keeps bytes and flags.

Python standard library only.
"""
import imaplib
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import QUILL, free_port, run_cases  # noqa: E402

SOURCE = os.environ.get("QUILL_SOURCE",
                        os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__))))
SCRIPT = os.path.join(SOURCE, "scripts", "peers", "dovecot.sh")
PEERS = f"/tmp/qp-store-{os.getpid()}"
PORTS = {name: free_port() for name in
         ("POP3", "POP3S", "IMAP", "IMAPS", "LMTP")}
ENV = dict(os.environ, QUILL_PEERS_DIR=PEERS,
           **{f"QUILL_PEER_{k}_PORT": str(v) for k, v in PORTS.items()})
MAIL_USER = "quillpeer"

MSGS = [
    (b"From: a@example.org\r\nTo: alice@example.test\r\n"
     b"Subject: one\r\nMessage-ID: <one@quill.test>\r\n\r\n"
     b"first body\r\nFrom here, a line mbox quotes\r\n",
     ["\\Seen", "\\Flagged"], ["$Label1"]),
    (b"From: b@example.org\r\nSubject: two\r\n\r\nsecond\r\n",
     ["\\Seen"], []),
    (b"From: c@example.org\r\nSubject: three\r\n\r\nthird\r\n",
     [], ["Project"]),
]


def sh(*args, check=True):
    r = subprocess.run(args, env=ENV, capture_output=True, text=True,
                       timeout=240)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n"
                             f"{r.stdout}{r.stderr}")
    return r


def quill(*args):
    return sh(QUILL, "store", *args).stdout


def ls(root, *extra):
    """quill store ls -> [(uid, size, set(flags), set(keywords))]."""
    out = []
    for line in quill("ls", "--root", root, *extra).splitlines():
        uid, size, flags, kws = line.split("\t")
        out.append((int(uid), int(size),
                    set() if flags == "-" else set(flags.split()),
                    set() if kws == "-" else set(kws.split())))
    return out


def imap_fetch(user, password, mailbox="INBOX"):
    """Dovecot's view: [(uid, flags set, bytes)]."""
    m = imaplib.IMAP4("127.0.0.1", PORTS["IMAP"], timeout=20)
    try:
        m.login(user, password)
        typ, _ = m.select(f'"{mailbox}"', readonly=True)
        assert typ == "OK", f"SELECT {mailbox}: {typ}"
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        assert typ == "OK", data
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            uid = int(meta.split("UID ")[1].split()[0])
            flags = set(imaplib.ParseFlags(item[0])) if b"FLAGS" in item[0] \
                else set()
            out.append((uid, {f.decode() for f in flags}, item[1]))
        return sorted(out)
    finally:
        try:
            m.logout()
        except Exception:
            pass


def setup():
    if os.geteuid() != 0:
        print("FAIL: this test needs root: it installs and starts Dovecot "
              "(scripts/peers/dovecot.sh); CI runs it as root")
        sys.exit(1)
    if not os.path.exists(SCRIPT):
        print(f"FAIL: {SCRIPT} not found (QUILL_SOURCE?)")
        sys.exit(1)
    try:
        sh("bash", SCRIPT, "install")
        sh("bash", SCRIPT, "start")
    except Exception as e:
        print(f"FAIL: Dovecot could not be installed or started: {e}")
        sh("bash", SCRIPT, "stop", check=False)
        shutil.rmtree(PEERS, ignore_errors=True)
        sys.exit(1)


def teardown():
    sh("bash", SCRIPT, "stop", check=False)
    shutil.rmtree(PEERS, ignore_errors=True)


def give_to_peer(src, user):
    """Put Maildir src in place of user's Maildir, owned by the mail user."""
    dst = os.path.join(PEERS, "mail", user, "Maildir")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, symlinks=True)
    sh("chown", "-R", f"{MAIL_USER}:{MAIL_USER}", dst)


def test_quill_writes_dovecot_reads():
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        root = os.path.join(tmp, "Maildir")
        for i, (body, flags, kws) in enumerate(MSGS):
            path = os.path.join(tmp, f"m{i}")
            with open(path, "wb") as f:
                f.write(body)
            args = ["append", "--root", root]
            if flags:
                args += ["--flags", " ".join(flags)]
            for k in kws:
                args += ["--keyword", k]
            out = quill(*args, path)
            assert out.startswith(f"{i + 1}\t"), out
        quill("append", "--root", root, "--mailbox", "Lists/quill",
              "--flags", "\\Flagged", os.path.join(tmp, "m0"))
        assert "ok:" in quill("check", "--root", root)
        give_to_peer(root, "alice")
    got = imap_fetch("alice", "wonderland")
    assert [g[0] for g in got] == [1, 2, 3], got
    for (uid, flags, data), (body, want_flags, kws) in zip(got, MSGS):
        assert data == body, f"uid {uid}: {data!r} != {body!r}"
        assert flags == set(want_flags) | set(kws), \
            f"uid {uid}: Dovecot sees {flags}, Quill wrote " \
            f"{want_flags} {kws}"
    sub = imap_fetch("alice", "wonderland", "Lists/quill")
    assert len(sub) == 1 and sub[0][2] == MSGS[0][0] and \
        sub[0][1] == {"\\Flagged"}, sub


def test_dovecot_writes_quill_reads():
    bodies = [b"From: x@example.org\r\nSubject: lmtp %d\r\n\r\nbody %d\r\n"
              % (i, i) for i in range(3)]
    with smtplib.LMTP("127.0.0.1", PORTS["LMTP"], timeout=20) as s:
        for b in bodies:
            s.sendmail("x@example.org", ["bob@example.test"], b)
    m = imaplib.IMAP4("127.0.0.1", PORTS["IMAP"], timeout=20)
    m.login("bob", "builder")
    m.select("INBOX")
    assert m.uid("STORE", "1", "+FLAGS", "(\\Seen $Label1)")[0] == "OK"
    assert m.uid("STORE", "2", "+FLAGS", "(\\Flagged \\Answered)")[0] == "OK"
    # Dovecot stores what LMTP got with LF line ends and shows it with
    # CRLF over IMAP; Quill reports the bytes of the file.
    typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    sizes = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(item[0].decode().split("UID ")[1].split()[0])
            sizes[uid] = len(item[1].replace(b"\r\n", b"\n"))
    m.logout()
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        root = os.path.join(tmp, "Maildir")
        shutil.copytree(os.path.join(PEERS, "mail", "bob", "Maildir"), root)
        got = ls(root)
        assert [g[0] for g in got] == [1, 2, 3], got
        want = {1: ({"\\Seen"}, {"$Label1"}),
                2: ({"\\Flagged", "\\Answered"}, set()),
                3: (set(), set())}
        for uid, size, flags, kws in got:
            assert (flags, kws) == want[uid], \
                f"uid {uid}: Quill sees {flags} {kws}, want {want[uid]}"
            assert size == sizes[uid], f"uid {uid}: {size} != {sizes[uid]}"
        assert "ok: 1 mailboxes, 3 messages" in quill("check", "--root", root)


def test_convert_round_trip():
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        a, b, c = (os.path.join(tmp, n) for n in ("a", "b", "c"))
        for i, (body, flags, kws) in enumerate(MSGS):
            path = os.path.join(tmp, f"m{i}")
            with open(path, "wb") as f:
                f.write(body)
            args = ["append", "--root", a, "--date", str(1700000000 + i)]
            if flags:
                args += ["--flags", " ".join(flags)]
            for k in kws:
                args += ["--keyword", k]
            quill(*args, path)
        quill("convert", "--from-root", a, "--from", "maildir",
              "--to-root", b, "--to", "mbox")
        assert "ok:" in quill("check", "--root", b, "--mbox")
        quill("convert", "--from-root", b, "--from", "mbox",
              "--to-root", c, "--to", "maildir")
        assert ls(a) == ls(b, "--mbox") == ls(c), (ls(a), ls(c))
        give_to_peer(c, "alice")
    got = imap_fetch("alice", "wonderland")
    assert [g[2] for g in got] == [m[0] for m in MSGS], got


if __name__ == "__main__":
    setup()
    try:
        run_cases([test_quill_writes_dovecot_reads,
                   test_dovecot_writes_quill_reads,
                   test_convert_round_trip])
    finally:
        teardown()
