#!/usr/bin/env python3
"""e2e_store_cli.py - `quill store` append, ls, check, convert; no root.

Appends messages with flags, keywords and dates to a Maildir and to an
mbox, lists them, converts Maildir -> mbox -> Maildir (bytes through the
store's files, flags, keywords, dates kept), and makes `check` find a
message file cut short. Python standard library only.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quilltest import QUILL, run_cases  # noqa: E402

MSGS = [
    (b"Subject: one\r\n\r\nFrom the start\r\n>From quoted\r\n",
     "\\Seen \\Flagged", ["$Label1"]),
    (b"Subject: two\n\nno CR here\n", "", []),
    (b"Subject: three\r\n\r\nlast, no newline", "\\Answered \\Draft",
     ["Work", "$Label2"]),
]


def quill(*args, ok=True):
    r = subprocess.run([QUILL, "store", *args], capture_output=True,
                       timeout=60)
    if ok and r.returncode != 0:
        raise AssertionError(f"quill store {' '.join(args)}: "
                             f"{r.returncode} {r.stderr.decode()}")
    return r


def ls(root, *extra):
    out = quill("ls", "--root", root, *extra).stdout.decode()
    return [tuple(line.split("\t")) for line in out.splitlines()]


def fill(tmp, root, *extra):
    for i, (body, flags, kws) in enumerate(MSGS):
        path = os.path.join(tmp, f"m{i}")
        with open(path, "wb") as f:
            f.write(body)
        args = ["append", "--root", root, "--date", str(1600000000 + i)]
        if flags:
            args += ["--flags", flags]
        for k in kws:
            args += ["--keyword", k]
        quill(*args, *extra, path)


def expect_listing(rows):
    assert len(rows) == len(MSGS), rows
    for (uid, size, flags, kws), (i, (body, want_f, want_k)) in \
            zip(rows, enumerate(MSGS)):
        assert int(uid) == i + 1 and int(size) == len(body), rows
        assert set(flags.split()) - {"-"} == set(want_f.split()), rows
        assert set(kws.split()) - {"-"} == set(want_k), rows


def test_append_ls_both_backends():
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        md, mb = os.path.join(tmp, "md"), os.path.join(tmp, "mb")
        fill(tmp, md)
        fill(tmp, mb, "--mbox")
        expect_listing(ls(md))
        expect_listing(ls(mb, "--mbox"))
        for root, extra in ((md, []), (mb, ["--mbox"])):
            out = quill("check", "--root", root, *extra).stdout
            assert out == b"ok: 1 mailboxes, 3 messages\n", out
            out = quill("check", "--root", root, "--repair", *extra).stdout
            assert out.startswith(b"ok:"), out
        expect_listing(ls(md))


def test_convert_round_trip():
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        a, b, c = (os.path.join(tmp, n) for n in "abc")
        fill(tmp, a)
        quill("append", "--root", a, "--mailbox", "Lists/quill",
              os.path.join(tmp, "m0"))
        quill("convert", "--from-root", a, "--from", "maildir",
              "--to-root", b, "--to", "mbox")
        quill("convert", "--from-root", b, "--from", "mbox",
              "--to-root", c, "--to", "maildir")
        expect_listing(ls(b, "--mbox"))
        expect_listing(ls(c))
        assert len(ls(c, "--mailbox", "Lists/quill")) == 1
        # internal dates: the Maildir file mtimes
        mt = sorted(int(os.stat(os.path.join(c, d, f)).st_mtime)
                    for d in ("cur", "new")
                    for f in os.listdir(os.path.join(c, d)))
        assert mt == [1600000000, 1600000001, 1600000002], mt


def test_check_finds_damage():
    with tempfile.TemporaryDirectory(prefix="quill-e2e-store-") as tmp:
        root = os.path.join(tmp, "md")
        fill(tmp, root)
        name = sorted(os.listdir(os.path.join(root, "cur")))[0]
        path = os.path.join(root, "cur", name)
        os.truncate(path, 5)
        r = quill("check", "--root", root, ok=False)
        assert r.returncode == 1 and b"damaged" in r.stdout, r


if __name__ == "__main__":
    run_cases([test_append_ls_both_backends, test_convert_round_trip,
               test_check_finds_damage])
