"""Fuzzing the snapshot readers: tar parts (damaged bytes and hostile structures) and
manifests. Every input ends in the project's one-line error or a clean result; nothing
lands outside the target, no link left behind resolves outside it, and a refused
restore leaves the target as it was."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.backup_sources import PathsError, restore_paths
from providers.hosts.local import LocalTransport
from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    SnapshotFields,
    SnapshotSource,
    new_snapshot_id,
)
from providers.repositories.models import PartSource
from providers.repositories.tarpart import extract_tar
from safefs.pathsafety import UnsafePathError
from tests.helpers.fuzz import fuzz

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
NAMES = st.sampled_from(["a", "b", "x", "conf", "home", "..", ".", "", "/etc", "a/b",
                         "conf/x", "l", "l/m", "x/..", "../..", "a\\b", "d/e/f"])
MEMBER = st.tuples(st.sampled_from(["file", "dir", "sym", "hard", "fifo"]),
                   st.lists(NAMES, min_size=1, max_size=3).map("/".join),
                   st.lists(NAMES, min_size=1, max_size=4).map("/".join))


def build_tar(members: list[tuple[str, str, str]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name or "empty")
            info.mode = 0o644
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                         "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            info.linkname = payload
            tar.addfile(info)
    return buffer.getvalue()


def tree(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = os.readlink(path) if path.is_symlink() else (
            "dir" if path.is_dir() else path.read_text(errors="replace"))
    return out


@fuzz(300)
@given(members=st.lists(MEMBER, max_size=8))
def test_hostile_tar_structures_never_escape(members):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        staging = root / "inside" / "staging"
        staging.mkdir(parents=True)
        (root / "outside.txt").write_text("untouched")
        try:
            extract_tar(io.BytesIO(build_tar(members)), staging, only=None, archive="fuzz")
        except (UnsafePathError, tarfile.TarError) as exc:
            assert "\n" not in str(exc)
            return
        real_staging = os.path.realpath(staging)
        for path in staging.rglob("*"):
            real = os.path.realpath(path)
            assert real == real_staging or real.startswith(real_staging + os.sep), path
        assert sorted(p.name for p in root.iterdir()) == ["inside", "outside.txt"]
        assert (root / "outside.txt").read_text() == "untouched"


@pytest.fixture(scope="module")
def seed_tar() -> bytes:
    return build_tar([("dir", "repository", ""), ("dir", "repository/conf", ""),
                      ("file", "repository/conf/deployment.toml", "[server]\noffset = 0\n"),
                      ("sym", "repository/conf/current", "deployment.toml"),
                      ("file", "updates/product.txt", "wso2am-4.2.0")])


@fuzz(150)
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_damaged_tar_parts_restore_cleanly_or_fail_in_one_line(seed_tar, flips, cut):
    data = bytearray(seed_tar)
    for where, value in flips:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = LocalRepository("vault", root / "vault")
        sid = new_snapshot_id(NOW)
        repo.put("gw", sid, [PartSource(name="tree.tar", kind="tar",
                                        write=lambda sink: sink.write(bytes(data)))],
                 SnapshotFields(source=SnapshotSource(kind="server", address="server.gw"),
                                created=NOW))
        home = root / "home"
        (home / "repository" / "conf").mkdir(parents=True)
        (home / "repository" / "conf" / "deployment.toml").write_text("mine")
        before = tree(home)
        try:
            restore_paths(repo, "gw", sid, "tree.tar", LocalTransport(), PurePosixPath(home))
        except (PathsError, RepositoryError) as exc:
            assert "\n" not in str(exc)
            assert tree(home) == before
        real_home = os.path.realpath(home)
        for path in home.rglob("*"):
            real = os.path.realpath(path)
            assert real == real_home or real.startswith(real_home + os.sep), path
        assert sorted(p.name for p in root.iterdir()) == ["home", "vault"]


@pytest.fixture(scope="module")
def seed_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    repo = LocalRepository("vault", tmp_path_factory.mktemp("m") / "vault")
    sid = new_snapshot_id(NOW)
    repo.put("apim-db", sid, [PartSource(name="d", kind="dump", write=lambda s: s.write(b"x"))],
             SnapshotFields(source=SnapshotSource(kind="database", address="database.a"),
                            created=NOW))
    return json.loads(repo._load_manifest("apim-db", sid) or b"{}")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


@fuzz(300)
@given(key=st.sampled_from(["format", "series", "id", "source", "created", "parts",
                            "tool_version", "tags", "mac", "extra"]),
       value=JSON, raw=st.binary(max_size=200), use_raw=st.booleans())
def test_damaged_manifests_are_one_manifest_error(seed_manifest, key, value, raw, use_raw):
    body = dict(seed_manifest, **{key: value})
    data = raw if use_raw else json.dumps(body).encode()
    try:
        Manifest.from_json(data, where="repository vault: snapshot apim-db/x")
    except ManifestError as exc:
        assert "\n" not in str(exc)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "vault" / "apim-db" / seed_manifest["id"]
        folder.mkdir(parents=True)
        (folder / MANIFEST_NAME).write_bytes(data)
        repo = LocalRepository("vault", Path(tmp) / "vault")
        try:
            repo.list()
            repo.get_manifest("apim-db", seed_manifest["id"])
        except RepositoryError as exc:
            assert "\n" not in str(exc)
