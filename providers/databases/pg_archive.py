"""What a pg_dump custom-format archive says about the database it came from.

pg_dump always writes a DATABASE entry into the archive's table of contents, which sits
at the start of the stream: `CREATE DATABASE name WITH TEMPLATE = template0 ENCODING =
'LATIN1' LOCALE_PROVIDER = libc LOCALE = 'C';` (or `LC_COLLATE = ... LC_CTYPE = ...`).
pg_restore runs it only with `--create`, which restores under the source's own name, so
drydock reads the encoding and locale from it and creates the target database with them.
The archive is untrusted: only names of the expected shape are taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_BYTES = 256 * 1024  # the table of contents' start, where the DATABASE entry is
_ENTRY = re.compile(rb"CREATE DATABASE [^\n]{1,400}? WITH TEMPLATE = template0([^\n;]{0,400});\n")
_ENCODING = re.compile(rb" ENCODING = '([A-Za-z0-9_]{1,32})'")
_SETTING = re.compile(rb" (LOCALE|LC_COLLATE|LC_CTYPE) = '([A-Za-z0-9_.@-]{1,64})'")


@dataclass(frozen=True)
class SourceDatabase:
    """The encoding and locale of the database an archive was dumped from."""

    encoding: str
    lc_collate: str | None = None
    lc_ctype: str | None = None


def source_database(head: bytes) -> SourceDatabase | None:
    """The source database's settings from the start of an archive, or None when the
    archive does not say (an older pg_dump, or a table of contents larger than read)."""
    entry = _ENTRY.search(head)
    if entry is None:
        return None
    options = entry.group(1)
    encoding = _ENCODING.search(options)
    if encoding is None:
        return None
    found = {k.decode(): v.decode() for k, v in _SETTING.findall(options)}
    collate = found.get("LC_COLLATE", found.get("LOCALE"))
    ctype = found.get("LC_CTYPE", found.get("LOCALE"))
    return SourceDatabase(encoding.group(1).decode(), collate, ctype)
