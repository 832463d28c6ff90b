"""e2e_pop3_seen.py - RETR sets \\Seen, as Dovecot does, so that IMAP
clients of the same mailbox see what a POP3 client fetched. python3
poplib drives quilld; the flags are read back with `quill store ls` and
from the store's own files: the Maildir file name's ":2,S" info, the mbox
message's "Status: RO" header. A message sent whole by RETR gets \\Seen
when QUIT enters UPDATE (RFC 1939 section 6); TOP does not set it, a
message deleted in the same session needs none, a session dropped without
QUIT changes nothing, and pop3.retr_sets_seen: false turns it off.
"""
import os
import poplib
import socket
import subprocess
import time

from quilltest import QUILL, Quilld, run_cases

MSGS = [b"Subject: seen one\n\nfirst body\n",
        b"Subject: seen two\n\nsecond body\nmore\n",
        b"Subject: seen three\n\nthird body\n"]


class Server:
    def __init__(self, extra_yaml="", mbox=False):
        self.q = Quilld(extra_yaml=extra_yaml,
                        listeners=[("pop3", "pop3", "127.0.0.1", "none")])
        self.mbox = mbox
        self.root = os.path.join(self.q.state, "mail", "alice")
        self.uids = [self.append(m) for m in MSGS]

    def store(self, *args, data=None):
        cmd = [QUILL, "store", args[0], "--root", self.root]
        if self.mbox:
            cmd.append("--mbox")
        r = subprocess.run(cmd + list(args[1:]), input=data,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r
        return r.stdout.decode()

    def append(self, data):
        return int(self.store("append", "-", data=data).split()[0])

    def flags(self):
        """UID -> flags, from `quill store ls`."""
        out = {}
        for line in self.store("ls").splitlines():
            f = line.split("\t")
            out[int(f[0])] = f[2] if len(f) > 2 else ""
        return out

    def files(self):
        """(name, bytes) of every file under the user's mail root."""
        for d, _, names in os.walk(self.root):
            for n in names:
                with open(os.path.join(d, n), "rb") as f:
                    yield n, f.read()

    def login(self):
        # the maildrop lock of an earlier session may take a moment to go
        deadline = time.time() + 20
        while True:
            p = poplib.POP3("127.0.0.1", self.q.ports["pop3"], timeout=20)
            p.user("alice")
            try:
                p.pass_("wonderland")
                return p
            except poplib.error_proto:
                p.close()
                assert time.time() < deadline, "maildrop stays locked"
                time.sleep(0.2)


def body(lines):
    return b"\r\n".join(lines[1]) + b"\r\n"


def test_maildir_retr_sets_seen():
    s = Server()
    try:
        u1, u2, u3 = s.uids
        p = s.login()
        assert b"first body" in body(p.retr(1))
        assert b"second body" in body(p.top(2, 5))
        p.retr(3)
        p.dele(3)
        assert "\\Seen" not in s.flags()[u1]  # only in UPDATE
        p.quit()
        f = s.flags()
        assert "\\Seen" in f[u1], f
        assert "\\Seen" not in f[u2], f  # TOP leaves it unseen
        assert u3 not in f, f  # deleted: gone, no flag needed
        named = [n for n, data in s.files() if b"first body" in data]
        assert len(named) == 1 and named[0].endswith(":2,S"), named
        named = [n for n, data in s.files() if b"second body" in data]
        assert len(named) == 1 and not named[0].endswith("S"), named
    finally:
        s.q.stop()


def test_drop_without_quit_sets_nothing():
    s = Server()
    try:
        u1, u2, u3 = s.uids
        p = s.login()
        p.retr(2)
        p.dele(1)
        p.sock.shutdown(socket.SHUT_RDWR)  # no QUIT: no UPDATE
        p.close()
        p = s.login()  # once the first session is gone
        assert p.stat()[0] == 3
        p.rset()
        p.sock.shutdown(socket.SHUT_RDWR)
        p.close()
        f = s.flags()
        assert sorted(f) == [u1, u2, u3], f
        assert all("\\Seen" not in v for v in f.values()), f
    finally:
        s.q.stop()


def test_mbox_retr_sets_seen():
    s = Server("users: { store: mbox }\n", mbox=True)
    try:
        u1, u2, _ = s.uids
        p = s.login()
        p.retr(1)
        p.quit()
        f = s.flags()
        assert "\\Seen" in f[u1] and "\\Seen" not in f[u2], f
        data = b"".join(d for n, d in s.files() if b"first body" in d)
        first = data[data.index(b"Subject: seen one"):]
        first = first[:first.index(b"first body")]
        assert b"\nStatus: RO\n" in first, data
    finally:
        s.q.stop()


def test_retr_sets_seen_off():
    s = Server("pop3:\n  retr_sets_seen: false\n")
    try:
        p = s.login()
        p.retr(1)
        p.retr(2)
        p.quit()
        f = s.flags()
        assert all("\\Seen" not in v for v in f.values()), f
    finally:
        s.q.stop()


if __name__ == "__main__":
    run_cases([test_maildir_retr_sets_seen,
               test_drop_without_quit_sets_nothing,
               test_mbox_retr_sets_seen, test_retr_sets_seen_off])
