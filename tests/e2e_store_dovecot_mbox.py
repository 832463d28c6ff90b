#!/usr/bin/env python3
"""e2e_store_dovecot_mbox.py - Quill's mbox and Dovecot 2.3's share files.

Starts a private Dovecot through scripts/peers/dovecot.sh with
mail_location = mbox:~/mail:INBOX=~/mail/inbox (QUILL_PEER_DOVECOT_MAIL),
its own state directory and free ports. Quill works on the same
directory as Dovecot (`quill store ... --root ~/mail --mbox`). Needs root
(CI runs as root); without it, or when Dovecot cannot be installed or
started, the test FAILS with the reason; it never skips.

 1. Quill writes (append with flags and keywords, a message carrying its
    own Status and X-UID fields, a sub-mailbox; then a flag change in
    place and an expunge): Dovecot serves the same UIDVALIDITY, UIDNEXT,
    UIDs, flags, keywords and bytes (Dovecot sends CRLF line ends).
 2. Dovecot changes flags (IMAP STORE), appends (IMAP APPEND) and
    delivers (LMTP) into that mailbox, while Quill's index is stale:
    `quill store ls/status/cat` show Dovecot's UIDs, flags, keywords and
    bytes, the UIDVALIDITY is kept, `quill store check` finds it sound.
 3. Quill's index deleted: rebuilt from the X-UID/X-IMAPbase lines, the
    same UIDs and UIDVALIDITY.
 4. Quill changes flags and expunges again: Dovecot, with its index from
    before, sees the changes under the same UIDVALIDITY.
 5. A mailbox only Dovecot ever wrote (bob's): Quill, with no index,
    reads Dovecot's UIDVALIDITY, UIDs, flags and keywords.

Python standard library only.
"""
import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import QUILL, free_port, run_cases  # noqa: E402

SOURCE = os.environ.get("QUILL_SOURCE",
                        os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__))))
SCRIPT = os.path.join(SOURCE, "scripts", "peers", "dovecot.sh")
PEERS = os.environ.get("QUILL_E2E_PEERS_DIR",
                       f"/tmp/qp-mbox-{os.getpid()}")
PORTS = {name: free_port() for name in
         ("POP3", "POP3S", "IMAP", "IMAPS", "LMTP")}
ENV = dict(os.environ, QUILL_PEERS_DIR=PEERS,
           QUILL_PEER_DOVECOT_MAIL="mbox:~/mail:INBOX=~/mail/inbox",
           **{f"QUILL_PEER_{k}_PORT": str(v) for k, v in PORTS.items()})
MAIL_USER = "quillpeer"
ALICE = os.path.join(PEERS, "mail", "alice", "mail")
BOB = os.path.join(PEERS, "mail", "bob", "mail")
SYSTEM = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"}

# (bytes, flags, keywords). No body line starts with "From ": Quill
# quotes them mboxrd-style and unquotes on reading, Dovecot (mboxo)
# shows the quoted line.
MSGS = [
    (b"From: a@example.org\nTo: alice@example.test\nSubject: one\n"
     b"Message-ID: <one@quill.test>\n\nfirst body\n",
     ["\\Seen", "\\Flagged"], ["$Label1", "Project"]),
    (b"From: b@example.org\r\nSubject: two (CRLF)\r\n\r\nsecond\r\n",
     ["\\Answered"], []),
    # A message that carries status fields of its own: Quill escapes
    # them, so they are neither taken for flags nor lost.
    (b"From: c@example.org\nSubject: three\nStatus: RO\nX-UID: 77\n"
     b"X-Keywords: Spoofed\n\nthird\n", [], []),
    (b"From: d@example.org\nSubject: four\n\nfourth, to expunge\n",
     ["\\Deleted"], []),
    (b"From: e@example.org\nSubject: five\n\nfifth\n", [], ["Project"]),
]


def sh(*args, check=True, **kw):
    r = subprocess.run(args, env=ENV, capture_output=True, timeout=240,
                       **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n"
                             f"{r.stdout.decode(errors='replace')}"
                             f"{r.stderr.decode(errors='replace')}")
    return r


def quill(*args):
    return sh(QUILL, "store", *args).stdout


def ls(root, mailbox="INBOX"):
    """quill store ls -> {uid: (size, flags, keywords)}."""
    out = {}
    for line in quill("ls", "--root", root, "--mbox", "--mailbox",
                      mailbox).decode().splitlines():
        uid, size, flags, kws = line.split("\t")
        out[int(uid)] = (int(size),
                         set() if flags == "-" else set(flags.split()),
                         set() if kws == "-" else set(kws.split()))
    return out


def status(root, mailbox="INBOX"):
    words = quill("status", "--root", root, "--mbox", "--mailbox",
                  mailbox).decode().split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


def cat(root, uid, mailbox="INBOX"):
    return quill("cat", "--root", root, "--mbox", "--mailbox", mailbox,
                 str(uid))


def crlf(data):
    """What Dovecot sends for stored bytes: every line end CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


STATUS_NAMES = re.compile(
    rb"(?i)(quill-escaped-)*(content-length|status|x-imap|x-imapbase|"
    rb"x-keywords|x-status|x-uid)[ \t]*:")


def on_disk(data):
    """The header as Quill stores it: a status field of the message's own
    gets one more "Quill-Escaped-" (docs/store.md), which other programs
    show. The oracle for what Dovecot serves."""
    out, in_header = [], True
    for line in data.splitlines(keepends=True):
        if in_header and line in (b"\n", b"\r\n"):
            in_header = False
        elif in_header and STATUS_NAMES.match(line):
            line = b"Quill-Escaped-" + line
        out.append(line)
    return b"".join(out)


class Imap:
    def __init__(self, user, password):
        self.m = imaplib.IMAP4("127.0.0.1", PORTS["IMAP"], timeout=20)
        self.m.login(user, password)

    def select(self, mailbox="INBOX", readonly=True):
        typ, _ = self.m.select(f'"{mailbox}"', readonly=readonly)
        assert typ == "OK", f"SELECT {mailbox}: {typ}"
        return (int(self.m.response("UIDVALIDITY")[1][0]),
                int(self.m.response("UIDNEXT")[1][0]))

    def fetch(self):
        """{uid: (flags without \\Recent, keywords, bytes)}."""
        typ, data = self.m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        assert typ == "OK", data
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            uid = int(meta.split("UID ")[1].split()[0])
            flags = {f.decode() for f in imaplib.ParseFlags(item[0])}
            flags.discard("\\Recent")
            out[uid] = (flags & SYSTEM, flags - SYSTEM, item[1])
        return out

    def store(self, uid, op, flags):
        typ, data = self.m.uid("STORE", str(uid), op, f"({flags})")
        assert typ == "OK", data

    def append(self, data, flags):
        typ, resp = self.m.append("INBOX", f"({flags})", None, data)
        assert typ == "OK", resp

    def close(self):
        try:
            self.m.logout()
        except Exception:
            pass


def own(path):
    sh("chown", "-R", f"{MAIL_USER}:{MAIL_USER}", path)


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


def expect_same(quill_root, imap, mailbox="INBOX"):
    """Quill's and Dovecot's views of one mailbox agree."""
    st = status(quill_root, mailbox)
    uidv, uidnext = imap.select(mailbox)
    assert (uidv, uidnext) == (st["uidvalidity"], st["uidnext"]), \
        f"{mailbox}: Dovecot {uidv}/{uidnext}, Quill {st}"
    theirs = imap.fetch()
    ours = ls(quill_root, mailbox)
    assert sorted(theirs) == sorted(ours), (theirs.keys(), ours.keys())
    for uid, (size, flags, kws) in ours.items():
        t_flags, t_kws, t_bytes = theirs[uid]
        assert (flags, kws) == (t_flags, t_kws), \
            f"{mailbox} uid {uid}: Quill {flags} {kws}, " \
            f"Dovecot {t_flags} {t_kws}"
        data = cat(quill_root, uid, mailbox)
        assert len(data) == size, f"uid {uid}: {len(data)} != {size}"
        assert crlf(on_disk(data)) == t_bytes, \
            f"{mailbox} uid {uid}: Quill {data!r}, Dovecot {t_bytes!r}"
    return ours


def test_quill_writes_dovecot_reads():
    os.makedirs(ALICE, exist_ok=True)
    for i, (body, flags, kws) in enumerate(MSGS):
        path = os.path.join(PEERS, f"m{i}")
        with open(path, "wb") as f:
            f.write(body)
        args = ["append", "--root", ALICE, "--mbox"]
        if flags:
            args += ["--flags", " ".join(flags)]
        for k in kws:
            args += ["--keyword", k]
        out = quill(*args, path).decode()
        assert out.startswith(f"{i + 1}\t"), out
        assert cat(ALICE, i + 1) == body
    quill("append", "--root", ALICE, "--mbox", "--mailbox", "Lists/quill",
          "--flags", "\\Flagged", os.path.join(PEERS, "m4"))
    # In place: letters only. Then an expunge (a rewrite of the file).
    quill("flag", "--root", ALICE, "--mbox", "--flags", "\\Seen Later",
          "2", "5")
    quill("flag", "--root", ALICE, "--mbox", "--remove", "--flags",
          "\\Flagged", "1")
    assert quill("expunge", "--root", ALICE, "--mbox") == b"4\n"
    assert "ok:" in quill("check", "--root", ALICE, "--mbox").decode()
    own(ALICE)
    imap = Imap("alice", "wonderland")
    try:
        ours = expect_same(ALICE, imap)
        assert sorted(ours) == [1, 2, 3, 5], ours
        want = {1: ({"\\Seen"}, {"$Label1", "Project"}),
                2: ({"\\Answered", "\\Seen"}, {"Later"}),
                3: (set(), set()),
                5: ({"\\Seen"}, {"Project", "Later"})}
        for uid, (flags, kws) in want.items():
            assert ours[uid][1:] == (flags, kws), (uid, ours[uid])
        for uid, i in ((1, 0), (2, 1), (3, 2), (5, 4)):
            assert cat(ALICE, uid) == MSGS[i][0]
        # Dovecot shows the escaped fields, and takes none of them.
        imap.select()
        t = imap.fetch()[3]
        assert t[:2] == (set(), set()), t
        assert b"\r\nQuill-Escaped-X-UID: 77\r\n" in t[2], t
        sub = expect_same(ALICE, imap, "Lists/quill")
        assert [v[1] for v in sub.values()] == [{"\\Flagged"}], sub
    finally:
        imap.close()


def test_dovecot_changes_quill_reads():
    before = status(ALICE)
    imap = Imap("alice", "wonderland")
    try:
        imap.select(readonly=False)
        imap.store(1, "-FLAGS", "\\Seen $Label1")
        imap.store(2, "+FLAGS", "\\Flagged \\Draft NewKw")
        imap.store(3, "+FLAGS", "\\Deleted")
        imap.append(b"Subject: by dovecot\r\nStatus: RO\r\n\r\n"
                    b"appended over IMAP\r\n", "\\Seen Project")
    finally:
        imap.close()
    with smtplib.LMTP("127.0.0.1", PORTS["LMTP"], timeout=20) as s:
        s.sendmail("x@example.org", ["alice@example.test"],
                   b"Subject: by lmtp\r\n\r\ndelivered\r\n")
    imap = Imap("alice", "wonderland")
    try:
        ours = expect_same(ALICE, imap)
    finally:
        imap.close()
    after = status(ALICE)
    assert after["uidvalidity"] == before["uidvalidity"], (before, after)
    assert sorted(ours) == [1, 2, 3, 5, 6, 7], ours
    assert ours[1][1:] == (set(), {"Project"}), ours[1]
    assert ours[2][1:] == ({"\\Answered", "\\Seen", "\\Flagged",
                            "\\Draft"}, {"Later", "NewKw"}), ours[2]
    assert ours[3][1] == {"\\Deleted"}, ours[3]
    assert ours[6][1:] == ({"\\Seen"}, {"Project"}), ours[6]
    # Dovecot's LMTP adds Return-Path, Delivered-To and Received.
    assert cat(ALICE, 7).endswith(b"Subject: by lmtp\n\ndelivered\n")
    assert "ok:" in quill("check", "--root", ALICE, "--mbox").decode()


def test_index_rebuilt_from_the_file():
    before, views = status(ALICE), ls(ALICE)
    os.unlink(os.path.join(ALICE, ".inbox.quill-index"))
    after = status(ALICE)
    assert (after["uidvalidity"], after["uidnext"]) == \
        (before["uidvalidity"], before["uidnext"]), (before, after)
    assert ls(ALICE) == views


def test_quill_changes_dovecot_sees():
    uidv = status(ALICE)["uidvalidity"]
    quill("flag", "--root", ALICE, "--mbox", "--set", "--flags",
          "\\Answered Done", "6")
    quill("flag", "--root", ALICE, "--mbox", "--flags", "\\Deleted", "2")
    assert quill("expunge", "--root", ALICE, "--mbox") == b"2\n3\n"
    own(ALICE)
    imap = Imap("alice", "wonderland")
    try:
        ours = expect_same(ALICE, imap)
    finally:
        imap.close()
    assert sorted(ours) == [1, 5, 6, 7], ours
    assert ours[6][1:] == ({"\\Answered"}, {"Done"}), ours[6]
    assert status(ALICE)["uidvalidity"] == uidv


def test_dovecot_writes_fresh_mailbox():
    with smtplib.LMTP("127.0.0.1", PORTS["LMTP"], timeout=20) as s:
        for i in range(3):
            s.sendmail("x@example.org", ["bob@example.test"],
                       b"Subject: lmtp %d\r\n\r\nbody %d\r\n" % (i, i))
    imap = Imap("bob", "builder")
    try:
        imap.select(readonly=False)
        imap.store(1, "+FLAGS", "\\Seen $Label1")
        imap.store(2, "+FLAGS", "\\Flagged \\Answered")
        imap.store(3, "+FLAGS", "\\Deleted")
        typ, _ = imap.m.expunge()
        assert typ == "OK"
        imap.append(b"Subject: four\r\n\r\nfour\r\n", "\\Draft")
    finally:
        imap.close()
    assert not os.path.exists(os.path.join(BOB, ".inbox.quill-index"))
    imap = Imap("bob", "builder")
    try:
        ours = expect_same(BOB, imap)
    finally:
        imap.close()
    assert sorted(ours) == [1, 2, 4], ours
    assert ours[1][1:] == ({"\\Seen"}, {"$Label1"}), ours[1]
    assert ours[2][1:] == ({"\\Flagged", "\\Answered"}, set()), ours[2]
    assert ours[4][1:] == ({"\\Draft"}, set()), ours[4]


if __name__ == "__main__":
    setup()
    try:
        run_cases([test_quill_writes_dovecot_reads,
                   test_dovecot_changes_quill_reads,
                   test_index_rebuilt_from_the_file,
                   test_quill_changes_dovecot_sees,
                   test_dovecot_writes_fresh_mailbox])
    finally:
        teardown()
