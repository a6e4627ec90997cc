"""The fingerprint cache beside the state: saved by every refresh, trusted by the next."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from state import fingerprint_cache as fc
from state.document import FileFingerprint
from tests.helpers.world import make_env, server_yaml


def _fp(mtime_ns: int, sha: str = "sha256:aa") -> FileFingerprint:
    return FileFingerprint(size=3, mtime_ns=mtime_ns, inode=7, sha256=sha)


def test_round_trip_keeps_settled_entries_and_drops_racy_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.json.fingerprints"
    now = time.time_ns()
    fc.save(path, {"server.a": {"old": _fp(now - 10**10), "racy": _fp(now - 10**6)}},
            now_ns=now)
    assert fc.load(path) == {"server.a": {"old": _fp(now - 10**10)}}


def test_a_missing_corrupt_or_foreign_cache_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "c"
    assert fc.load(path) == {}
    path.write_text("{not json")
    assert fc.load(path) == {}
    path.write_text(json.dumps({"format": "other", "resources": {}}))
    assert fc.load(path) == {}
    path.write_text(json.dumps({"format": fc.FORMAT, "resources": {"a": {"f": [1]}}}))
    assert fc.load(path) == {}


def test_cache_path_sits_beside_the_journal(tmp_path: Path) -> None:
    assert fc.cache_path(tmp_path / "x.json.journal") == tmp_path / "x.json.fingerprints"


def test_a_plan_trusts_the_cache_for_an_unchanged_file_and_rehashes_a_changed_one(
        tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")})
    env.run("apply", ".", "--auto-approve", check=0)
    conf = env.home("gw-1") / "repository/conf/deployment.toml"
    old = conf.stat().st_mtime_ns - 5 * 10**9  # settled: older than the racy window
    os.utime(conf, ns=(old, old))
    env.run("plan", ".", "--detailed-exitcode", check=0)
    cache = env.spec / "state" / "t.json.fingerprints"
    saved = json.loads(cache.read_text())
    entry = saved["resources"]["server.gw-1"]["repository/conf/deployment.toml"]
    assert entry[:3] == [conf.stat().st_size, old, conf.stat().st_ino]
    # A cached digest is believed while size, mtime and inode hold: no re-hash happens.
    entry[3] = "sha256:" + "0" * 64
    cache.write_text(json.dumps(saved))
    assert env.run("plan", ".", "--detailed-exitcode").returncode == 2
    # Touching the file moves its mtime: it is hashed again and found unchanged.
    os.utime(conf, ns=(old + 10**9, old + 10**9))
    env.run("plan", ".", "--detailed-exitcode", check=0)
