"""What a restore names and the one error every restore planner raises (pure).

The command line names a snapshot (`ID`, `SERIES/ID`, `REPOSITORY:SERIES/ID`), a server's
change backup (`<server>@<id>`, `<server>@latest`), and a target (`database.X`,
`server.X`, `dir:/path`); these parse them into models.
"""

from __future__ import annotations

from typing import Literal

from engine.contracts.models import Frozen

ONLY = ("patches",)
"""What a change backup can restore onto a server."""


class RestoreError(ValueError):
    """The restore cannot be planned; the message says what to do instead."""


class SnapshotRef(Frozen):
    """What the command line names: `ID`, `SERIES/ID` or `REPOSITORY:SERIES/ID`."""

    id: str
    series: str | None = None
    repository: str | None = None


class RestoreTarget(Frozen):
    """Where a snapshot goes: `database.X`, `server.X` or `dir:/some/path`."""

    kind: Literal["database", "server", "dir"]
    name: str

    @property
    def address(self) -> str:
        """The resource address restored (`dir:<path>` for a folder)."""
        return f"dir:{self.name}" if self.kind == "dir" else f"{self.kind}.{self.name}"


def parse_snapshot_ref(text: str) -> SnapshotRef:
    """Parse `ID`, `SERIES/ID` or `REPOSITORY:SERIES/ID`; RestoreError when malformed."""
    repo, _, rest = text.rpartition(":") if ":" in text.split("/")[0] else ("", "", text)
    series, _, sid = rest.rpartition("/")
    if not sid or (rest.count("/") > 1) or (":" in text and not series):
        raise RestoreError(f"snapshot {text!r}: name it as ID, SERIES/ID or REPOSITORY:SERIES/ID "
                           "(see 'drydock backups list')")
    return SnapshotRef(id=sid, series=series or None, repository=repo or None)


def parse_restore_target(text: str) -> RestoreTarget:
    """Parse `database.X`, `server.X` or `dir:/path`; RestoreError for anything else."""
    if text.startswith("dir:") and len(text) > 4:
        return RestoreTarget(kind="dir", name=text[4:])
    kind, _, name = text.partition(".")
    if kind in ("database", "server") and name:
        return RestoreTarget(kind=kind, name=name)  # type: ignore[arg-type]
    raise RestoreError(f"--to {text!r}: restore into database.NAME, server.NAME or dir:/PATH")


class RestoreSource(Frozen):
    """What to restore from: a change backup of a server, or a repository snapshot."""

    kind: Literal["change-backup", "snapshot"]
    server: str = ""
    backup_id: str = ""
    snapshot: str = ""

    @property
    def address(self) -> str:
        """The address its provider observes: `change-backup.<server>@<id>`."""
        return f"change-backup.{self.server}@{self.backup_id}"


def parse_source(text: str) -> RestoreSource:
    """`gw-1@20261125T101010Z-ab12cd` or `gw-1@latest` -> a change-backup source; any other
    text is a snapshot id. Raises RestoreError for an empty server or id."""
    if "@" not in text:
        return RestoreSource(kind="snapshot", snapshot=text)
    server, _, backup_id = text.partition("@")
    if not server or not backup_id or "/" in backup_id:
        raise RestoreError(f"{text!r} is not <server>@<change-backup-id> or <server>@latest")
    return RestoreSource(kind="change-backup", server=server, backup_id=backup_id)


def parse_target(text: str) -> str:
    """`server.gw-2` -> `gw-2`; RestoreError for any other kind of address."""
    kind, _, name = text.partition(".")
    if kind != "server" or not name:
        raise RestoreError(f"--to {text!r}: restore onto a server, e.g. --to server.gw-2")
    return name
