"""Find the exact bytes a server's managed files had: in its change backups, then in the
snapshots of its paths backup policies (primary repository first, then copies).

Used to bring a server back to a recorded version: each wanted file is named with the
sha256 the state recorded, and only bytes with that digest are returned. Change backups
are read on the server's host through its transport.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import PurePosixPath

from engine.contracts.facts import FoundFile
from engine.spec.loader import LoadedSpec
from providers.hosts.base import Transport
from providers.hosts.paths import inside, is_file
from providers.product.restore_patches import backups_root, list_backups
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository
from providers.restore.snapshots import tar_members
from safefs.pathsafety import UnsafePathError


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _from_change_backups(t: Transport, host_root: PurePosixPath, server: str,
                         wanted: Mapping[str, str], found: dict[str, FoundFile]) -> None:
    for backup in reversed(list_backups(t, backups_root(host_root, server))):
        for rel, digest in wanted.items():
            if rel in found:
                continue
            try:
                path = inside(t, backup / "files", rel, what=f"change backup {backup}")
            except UnsafePathError:
                continue
            if not is_file(t, path):
                continue
            data = t.read_bytes(path)
            text = _text(data)
            if _digest(data) == digest and text is not None:
                found[rel] = FoundFile(source=f"change backup {server}@{backup.name}", text=text)


def _from_snapshots(spec: LoadedSpec, server: str, wanted: Mapping[str, str],
                    found: dict[str, FoundFile]) -> None:
    for name, policy in spec.env.backups.items():
        if policy.source.server != server:
            continue
        for repo_name in [policy.repository, *policy.copies]:
            missing = [rel for rel in wanted if rel not in found]
            if not missing:
                return
            try:
                repo = open_repository(spec, repo_name)
                snapshots = list(reversed(repo.list(name)))
            except RepositoryError:
                continue
            for manifest in snapshots:
                members = tar_members(repo, name, manifest.id, missing, read=True)
                for rel in missing:
                    member = members.get(rel)
                    text = _text(member.data) if member and member.data is not None else None
                    if member and text is not None and "sha256:" + member.sha256 == wanted[rel]:
                        found.setdefault(rel, FoundFile(
                            source=f"snapshot {repo_name}:{name}/{manifest.id}", text=text))
                missing = [rel for rel in wanted if rel not in found]
                if not missing:
                    return


def find_server_files(spec: LoadedSpec, t: Transport, server: str,
                      wanted: Mapping[str, str]) -> dict[str, FoundFile]:
    """For each relative path -> `sha256:<hex>` in `wanted`, text with exactly that digest.

    Searches the server's change backups (on its host `t`) newest first, then the
    snapshots of the paths policies that back the server up. Files not found are absent
    from the result. Raises ValueError when the server is not declared.
    """
    declared = spec.env.servers.get(server)
    if declared is None:
        raise ValueError(f"server {server!r} is not in the spec")
    found: dict[str, FoundFile] = {}
    host_root = PurePosixPath(spec.path(spec.env.hosts[declared.host].root))
    _from_change_backups(t, host_root, server, wanted, found)
    if len(found) < len(wanted):
        _from_snapshots(spec, server, wanted, found)
    return found
