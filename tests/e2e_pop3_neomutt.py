"""e2e_pop3_neomutt.py - NeoMutt, a POP3 client nobody here wrote, fetches
mail from quilld: over pop3s (implicit TLS, RFC 8314) and over POP3 with
STLS (RFC 2595 section 4), checking the server certificate against the
test certificate and the host name. NeoMutt has no batch mode, so it runs
under a pseudo-terminal (`script`), bounded by a timeout, with the keys
`<fetch-mail><quit>` pushed from the command line. It fetches every
message into a local mbox and, with pop_delete, deletes them (DELE, then
QUIT: RFC 1939 sections 5 and 6). The fetched messages' headers and
bodies must be those put into the store, dot-leading lines whole
(byte-stuffing undone, RFC 1939 section 3), and the maildrop empty after.
"""
import mailbox
import os
import shutil
import subprocess
import tempfile

from quilltest import QUILL, Quilld, run_cases

Q = None
MSGS = [b"Subject: neomutt one\nMessage-ID: <nm1@client.example.test>\n\n"
        b"first body\n.a line that starts with a dot\n..two\n",
        b"Subject: neomutt two\nMessage-ID: <nm2@client.example.test>\n\n"
        b"second body\n"]


def mail_root():
    return os.path.join(Q.state, "mail", "alice")


def store(*args, data=None):
    r = subprocess.run([QUILL, "store", args[0], "--root", mail_root()] +
                       list(args[1:]), input=data, capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r
    return r.stdout.decode()


def neomutt(url, extra):
    """Fetch with NeoMutt from url; returns the local mbox's messages."""
    d = tempfile.mkdtemp(prefix="quill-neomutt-")
    try:
        spool = os.path.join(d, "inbox")
        open(spool, "w").close()
        rc = os.path.join(d, "muttrc")
        with open(rc, "w") as f:
            f.write(f'set pop_host="{url}"\n'
                    "set pop_delete=yes\nset mbox_type=mbox\n"
                    f'set folder="{d}"\nset spoolfile="{spool}"\n'
                    f'set certificate_file="{Q.cert}"\n'
                    "set ssl_verify_host=yes\nset ssl_verify_dates=yes\n"
                    "set quit=yes\nset header_cache=\"\"\n"
                    "set message_cachedir=\"\"\n" + extra)
        cmd = f"neomutt -n -F {rc} -e 'push <fetch-mail><quit>'"
        env = dict(os.environ, HOME=d, TERM="xterm")
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        assert r.returncode == 0, r
        return [(m["Subject"], m["Message-ID"], m.get_payload(decode=True))
                for m in mailbox.mbox(spool, create=False)]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def expected():
    out = []
    for raw in MSGS:
        head, body = raw.split(b"\n\n", 1)
        h = dict(line.decode().split(": ", 1) for line in head.split(b"\n"))
        out.append((h["Subject"], h["Message-ID"], body))
    return out


def fetch_and_compare(url, extra=""):
    for m in MSGS:
        store("append", "-", data=m)
    got = neomutt(url, extra)
    assert sorted(got) == sorted(expected()), got
    assert store("ls") == "", "pop_delete left mail behind"


def test_neomutt_pop3s():
    before = Q.read_log().count("tls.established")
    fetch_and_compare(f"pops://alice:wonderland@localhost:{Q.ports['pop3s']}")
    assert Q.read_log().count("tls.established") > before


def test_neomutt_stls():
    before = Q.read_log().count("pop3.tls ")
    fetch_and_compare(f"pop://alice:wonderland@localhost:{Q.ports['pop3']}",
                      "set ssl_starttls=yes\nset ssl_force_tls=yes\n")
    assert Q.read_log().count("pop3.tls ") > before, "no STLS"


def main():
    global Q
    Q = Quilld(listeners=[("pop3", "pop3", "127.0.0.1", "starttls"),
                          ("pop3s", "pop3", "127.0.0.1", "implicit")])
    try:
        run_cases([test_neomutt_pop3s, test_neomutt_stls])
    finally:
        Q.stop()


if __name__ == "__main__":
    main()
