"""The fixed POSIX sh scripts the ssh transport runs on a host, and parsers of their output.

Pure: nothing here talks to a host. Every script is a constant; paths, names and argument
lists reach it only as positional parameters (`sh -c SCRIPT sh ARG...`), each quoted with
`shlex.quote` for the remote login shell, so no value is ever interpolated into shell text.
Environment values (secrets) are sent on the command's stdin, never on its command line.

What a host needs: a POSIX `sh`, GNU `find` (`-printf`), `tar`, `sha256sum`, `realpath`,
`cp`, `rm`, `mkdir`, `dd` (and GNU `stat -f` where the SFTP server has no statvfs).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from providers.hosts.base import FileKind, FileStat, HostError

ABSENT = 3
"""Exit code of the fact scripts when the path they were given does not exist."""

FIND_FORMAT = r"%y %i %s %T@ %m %P\0"
_KINDS: dict[bytes, FileKind] = {b"f": "file", b"d": "dir", b"l": "link"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# $1: 1 when an environment block comes first on stdin; $2: working folder or "";
# $3: seconds the command may take (GNU `timeout` kills it and exits 124; OpenSSH does not
# deliver signals to the sessions of every login, so the host enforces it); then argv.
RUN = (
    'e=$1; d=$2; t=$3; shift 3\n'
    'if [ "$e" = 1 ]; then\n'
    '  IFS= read -r n || exit 125\n'
    '  v=$(dd bs=1 count="$n" 2>/dev/null) || exit 125\n'
    '  eval "$v"\n'
    'fi\n'
    'if [ -n "$d" ] && ! cd -- "$d" 2>/dev/null; then\n'
    '  echo "no such folder: $d" >&2; exit 127\n'
    'fi\n'
    'if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 "$t" "$@"; fi\n'
    'exec "$@"\n'
)
EXISTS = '[ -e "$1" ] || [ -h "$1" ] || exit 3\n'
STAT = EXISTS + f'exec find "$1" -maxdepth 0 -printf {shlex.quote(FIND_FORMAT)}\n'
LIST = EXISTS + f'exec find -H "$1" -mindepth 1 -maxdepth 1 -printf {shlex.quote(FIND_FORMAT)}\n'
WALK = EXISTS + f'exec find -H "$1" -mindepth 1 -printf {shlex.quote(FIND_FORMAT)}\n'
REALPATH = 'exec realpath -m -- "$1"\n'
SHA256 = 'exec sha256sum -b -- "$1"\n'
SHA256_MANY = 'exec sha256sum -bz -- "$@"\n'
# $1: a path; measured at its nearest existing parent. Prints "<avail blocks> <block size>".
FREE_BYTES = (
    'p=$1; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname -- "$p"); done\n'
    'exec stat -f -c "%a %S" -- "$p"\n'
)
REMOVE_TREE = EXISTS + 'exec rm -rf -- "$1"\n'
COPY_TREE = (
    EXISTS +
    'mkdir -p -- "$(dirname -- "$2")" || exit 1\n'
    'if [ "$3" = 1 ]; then cp -alT -- "$1" "$2" 2>/dev/null && exit 0; rm -rf -- "$2"; fi\n'
    'exec cp -aT -- "$1" "$2"\n'
)
# $1: root; then members relative to it (absent ones are skipped).
TAR_OUT = (
    'cd -- "$1" 2>/dev/null || exec tar -cf - -T /dev/null; shift\n'
    'for m do shift; if [ -e "$m" ] || [ -h "$m" ]; then set -- "$@" "$m"; fi; done\n'
    '[ $# -gt 0 ] || exec tar -cf - -T /dev/null\n'
    'exec tar --format=pax -cf - -- "$@"\n'
)
TAR_IN = 'mkdir -p -- "$1" && exec tar -xf - -C "$1" --no-same-owner\n'


def command(script: str, *args: str) -> str:
    """The command line for the remote login shell: `sh -c SCRIPT sh ARGS...`, all quoted."""
    return shlex.join(["sh", "-c", script, "sh", *args])


def run_command(argv: Sequence[str], cwd: PurePosixPath | None, with_env: bool,
                timeout: float) -> str:
    """The command line that runs `argv` (no shell between it and the program) in `cwd`,
    killed on the host after `timeout` seconds."""
    if not argv:
        raise ValueError("an empty command")
    return command(RUN, "1" if with_env else "0", str(cwd) if cwd else "",
                   f"{max(timeout, 0.001):.3f}", *argv)


def env_block(env: Mapping[str, str]) -> bytes:
    """The stdin prelude that `RUN` turns into exported variables: `<length>\\n<exports>`.

    Raises ValueError for a name that is not a shell variable name.
    """
    lines = []
    for name, value in env.items():
        if not _ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} is not valid")
        lines.append(f"export {name}={shlex.quote(value)}\n")
    body = "".join(lines).encode()
    return f"{len(body)}\n".encode() + body


def _mtime_ns(text: bytes) -> int:
    sign = -1 if text.startswith(b"-") else 1
    whole, _, frac = text.lstrip(b"-").partition(b".")
    return sign * (int(whole or b"0") * 1_000_000_000 + int((frac + b"000000000")[:9]))


def parse_find(data: bytes) -> list[tuple[str, FileStat]]:
    """Parse `find -printf FIND_FORMAT` output into (relative name, stat) pairs.

    Records end with NUL, so a name may hold spaces and newlines; names are decoded like
    the local file system's (UTF-8, undecodable bytes kept as surrogates). Raises
    ValueError on a malformed record.
    """
    out = []
    for record in data.split(b"\0")[:-1]:
        fields = record.split(b" ", 5)
        if len(fields) != 6:
            raise ValueError(f"unexpected find output {record[:80]!r}")
        kind, inode, size, mtime, mode, name = fields
        stat = FileStat(kind=_KINDS.get(kind, "other"), size=int(size),
                        mtime_ns=_mtime_ns(mtime), inode=int(inode), mode=int(mode, 8))
        out.append((name.decode("utf-8", "surrogateescape"), stat))
    return out


def parse_sha256(output: str) -> str:
    """`sha256:<hex>` from a `sha256sum` line (which escapes odd names with a backslash)."""
    digest = output.lstrip("\\")[:64]
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"unexpected sha256sum output {output[:80]!r}")
    return "sha256:" + digest


def parse_sha256_many(data: bytes) -> dict[str, str]:
    """{name: `sha256:<hex>`} from `sha256sum -bz` records (`<hex> *<name>` + NUL)."""
    out = {}
    for record in data.split(b"\0")[:-1]:
        digest, sep, name = record.partition(b" *")
        if not sep or not re.fullmatch(rb"[0-9a-f]{64}", digest):
            raise ValueError(f"unexpected sha256sum output {record[:80]!r}")
        out[name.decode("utf-8", "surrogateescape")] = "sha256:" + digest.decode()
    return out


def parse_free_bytes(output: str, host: str, path: PurePosixPath) -> int:
    """Bytes from FREE_BYTES's `<avail blocks> <block size>`; HostError when malformed."""
    fields = output.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise HostError(f"{host}: {path}: cannot read free space from {output.strip()!r}")
    return int(fields[0]) * int(fields[1])


def first_line(text: str, default: str) -> str:
    """The first non-empty line of `text` (for one-line errors), or `default`."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return default
