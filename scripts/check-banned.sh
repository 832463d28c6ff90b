#!/bin/sh
# check-banned.sh [FILE...]
#
# Fails on calls to banned C library functions, as curl's checksrc does:
# every *.c and *.h under lib server client harness fuzz that git tracks or
# would track (not ignored), or all found by `find` outside a git checkout;
# FILEs, if given, are checked instead. Comments, string and character
# literals are blanked out first, so only real code counts; a call is the
# name as a whole word followed by optional blanks and '(' (not a member
# such as p->atoi). Prints "FILE:LINE: banned function 'X' — use 'Y'
# instead" for each and exits 1; prints "banned: N files ok" when clean.
# Needs python3.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dirs="lib server client harness fuzz"

case ${1:-} in
-h | --help)
	sed -n '2,12s/^# \{0,1\}//p' "$0"
	exit 0
	;;
-*)
	echo "check-banned: unknown option '$1'" >&2
	exit 2
	;;
esac

command -v python3 >/dev/null 2>&1 || {
	echo "check-banned: python3 not found (scripts/install-deps.sh --test)" >&2
	exit 2
}

if [ $# -eq 0 ]; then
	cd "$root"
	# shellcheck disable=SC2086 # $dirs is a list of folder names
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		files=$(git ls-files -co --exclude-standard -- $dirs |
			grep -E '\.[ch]$' | sort -u) || true
	else
		files=$(for d in $dirs; do
			[ -d "$d" ] && find "$d" -type f -name '*.[ch]'
		done | sort)
	fi
	# One name per line; none of ours hold blanks or glob characters.
	set -f
	# shellcheck disable=SC2086
	set -- $files
	set +f
fi

exec python3 - "$@" <<'EOF'
import os
import re
import sys

# banned name -> what to use instead
BANNED = {
    "sprintf": "snprintf",
    "vsprintf": "vsnprintf",
    "strcpy": "snprintf' or 'memcpy with a checked length",
    "strcat": "snprintf' or 'memcpy with a checked length",
    "strncpy": "snprintf' or 'memcpy with a checked length",
    "gets": "fgets",
    "atoi": "strtol with end and range checks",
    "atol": "strtol with end and range checks",
    "strtok": "strtok_r",
}
CALL = re.compile(r"(?<![\w.])(?<!->)(" + "|".join(BANNED) +
                  r")\s*\(")


def blank(src):
    """Blank out comments and string/char literals, keeping newlines (and
    so line numbers). Backslash-newline continuations are kept too."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            while i < n and src[i] != "\n":
                if src[i] == "\\" and i + 1 < n and src[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", src[i:end]))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            end = min(j + 1, n)
            # keep the quotes so the token stays a token
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:end - 1]) + c)
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


sys.stdout.reconfigure(encoding="utf-8")
files = sys.argv[1:]
problems = 0
bad = set()
for path in files:
    try:
        with open(path, encoding="latin-1") as f:
            code = blank(f.read())
    except OSError as e:
        print(f"check-banned: {path}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    # Whole text, not line by line: the '(' may be on the next line.
    for m in CALL.finditer(code):
        name = m.group(1)
        lineno = code.count("\n", 0, m.start()) + 1
        print(f"{path}:{lineno}: banned function '{name}' "
              f"\u2014 use '{BANNED[name]}' instead")
        problems += 1
        bad.add(path)

if problems:
    print(f"banned: {problems} banned call(s) in {len(bad)} of {len(files)} "
          "files")
    sys.exit(1)
print(f"banned: {len(files)} files ok")
EOF
