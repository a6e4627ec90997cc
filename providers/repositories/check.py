"""Check a whole repository, as restic's `check` does: every manifest, every part, every
folder.

Without `read_data` each part's stored object must exist with the size its manifest
records; with it every part is re-hashed (sha256 of the stored bytes). Objects in a
snapshot folder that its manifest does not list are orphans; a folder without a manifest
is an interrupted write (drydock's in-progress marker: `drydock plan` schedules its
cleanup) or somebody else's. Nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.contracts.facts import RepositoryCheck, RepositoryProblem
from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import MANIFEST_NAME, Manifest
from providers.repositories.ownership import TEMP_MARK, WRITING_MARKER

# The repository is `providers.repositories.base.Repository` (which imports nothing of
# this module); named loosely to keep the import graph one way.
Repository = Any


def check_repository(repo: Repository, *, read_data: bool = False) -> RepositoryCheck:
    """Check every snapshot folder of `repo`; returns the problems found (none: healthy).

    Raises RepositoryError when the repository itself cannot be listed.
    """
    repo._claim(create=False)
    folders: dict[tuple[str, str], dict[str, int]] = {}
    try:
        for series, sid, name, size in repo._inventory():
            folders.setdefault((series, sid), {})[name] = size
    except OSError as exc:
        raise repo._io_error(f"repository {repo.name}")(exc) from exc
    problems: list[RepositoryProblem] = []
    snapshots = parts = read = 0
    for (series, sid), objects in sorted(folders.items()):
        where = f"{series}/{sid}"
        if MANIFEST_NAME not in objects:
            problems.append(_no_manifest(where, objects))
            continue
        manifest = _manifest(repo, series, sid, where, problems)
        if manifest is None:
            continue
        snapshots += 1
        for found in _parts(repo, manifest, objects, read_data):
            parts += 1
            read += found[1]
            if found[0] is not None:
                problems.append(found[0])
        listed = {p.stored_name for p in manifest.parts} | {MANIFEST_NAME, WRITING_MARKER}
        for name in sorted(set(objects) - listed):
            if name.startswith(".") and TEMP_MARK in name:
                what = "a temporary file of an interrupted write"
            else:
                what = "not listed in the manifest"
            problems.append(RepositoryProblem(kind="orphan", where=f"{where}/{name}",
                                              problem=what))
    return RepositoryCheck(repository=repo.name, read_data=read_data, snapshots=snapshots,
                           parts=parts, bytes_read=read, problems=tuple(problems))


def _no_manifest(where: str, objects: dict[str, int]) -> RepositoryProblem:
    if WRITING_MARKER in objects:
        return RepositoryProblem(kind="unfinished", where=where, problem=(
            "an interrupted write (no manifest, so the snapshot does not exist); 'drydock "
            "plan' schedules its cleanup"))
    return RepositoryProblem(kind="orphan", where=where, problem=(
        "a folder without a manifest that drydock did not begin; move it out of the "
        "repository"))


def _manifest(repo: Repository, series: str, sid: str, where: str,
              problems: list[RepositoryProblem]) -> Manifest | None:
    try:
        return repo.authenticate(repo.get_manifest(series, sid))
    except RepositoryError as exc:
        problems.append(RepositoryProblem(kind="manifest", where=where,
                                          problem=str(exc).removeprefix(
                                              f"repository {repo.name}: snapshot {where}: ")))
        return None


def _parts(repo: Repository, manifest: Manifest, objects: dict[str, int],
           read_data: bool) -> Iterator[tuple[RepositoryProblem | None, int]]:
    """Per part: the problem found (or None) and the bytes read."""
    for info in manifest.parts:
        where = f"{manifest.series}/{manifest.id}/{info.stored_name}"
        stored = objects.get(info.stored_name)
        if stored is None:
            yield RepositoryProblem(kind="part", where=where, problem="stored data is missing"), 0
            continue
        if stored != info.size:
            yield RepositoryProblem(kind="part", where=where, problem=(
                f"{stored} bytes stored, the manifest says {info.size}")), 0
            continue
        if not read_data:
            yield None, 0
            continue
        check = repo._check_info(manifest.series, manifest.id, info)
        problem = None if check.ok else RepositoryProblem(
            kind="part", where=where, problem=check.problem or "sha256 differs")
        yield problem, check.actual_size or 0
