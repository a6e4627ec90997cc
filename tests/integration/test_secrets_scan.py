"""With known secret values set, plan/apply/backup/drill leave none of them in any output,
state, history, plan, journal or manifest; and everything drydock writes is owner-only."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.helpers.world import Env, make_env, seed_apis

pytestmark = pytest.mark.integration

DB_SECRET = "dbpw-" + uuid.uuid4().hex
CONF_SECRET = "confpw-" + uuid.uuid4().hex
HMAC_SECRET = "hmac-" + uuid.uuid4().hex
SECRETS = {"DD_SCAN_DB_PASSWORD": DB_SECRET, "DD_SCAN_CONF_PASSWORD": CONF_SECRET,
           "DD_SCAN_HMAC": HMAC_SECRET, "DRYDOCK_NOW": "2026-01-01T02:00:00+00:00"}

SPEC = """\
servers:
  gw-1:
    host: node-a
    product: wso2am-4.2.0
    home: opt/gw-1
    config:
      repository/conf/deployment.toml:
        template: templates/secret.toml.j2
        vars: {{db_password: {{env: DD_SCAN_CONF_PASSWORD}}}}
databases:
  apim_db: {{engine: sqlite, path: "{{{{ world }}}}/primary/apim.db", site: primary}}
  app: {{engine: postgres, host: 127.0.0.1, port: 5432, user: postgres, dbname: {pg},
         password: {{env: DD_SCAN_DB_PASSWORD}}, site: primary}}
repositories:
  primary-vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups",
                  hmac_key: {{env: DD_SCAN_HMAC}}}}
  dr-vault: {{site: dr, type: local, path: "{{{{ world }}}}/dr/backups",
             hmac_key: {{env: DD_SCAN_HMAC}}}}
backups:
  apim-db: {{source: {{database: apim_db}}, every: 24h, keep: {{last: 3}},
            repository: primary-vault, copies: [dr-vault]}}
  app: {{source: {{database: app}}, every: 24h, keep: {{last: 3}}, repository: primary-vault}}
  gw-1-runtime: {{source: {{server: gw-1}}, every: 24h, keep: {{last: 3}},
                 repository: primary-vault}}
drills:
  apim-db-restore:
    backup: apim-db
    from: dr-vault
    every: 7d
    into: {{database: {{engine: sqlite, path: "{{{{ world }}}}/scratch/apim.db"}}}}
    verify: [{{sql: "SELECT count(*) FROM am_api", expect: ">= 1"}}]
    rto: 15m
"""


@pytest.fixture
def env(tmp_path: Path):
    pg = f"dd_scan_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f'CREATE DATABASE "{pg}"'], check=True, capture_output=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", pg, "-qc",
                    "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"], check=True,
                   capture_output=True)
    made = make_env(tmp_path, {}, extra_yaml=SPEC.format(pg=pg))
    (made.spec / "servers.yaml").write_text("servers: {}\n")
    (made.spec / "templates" / "secret.toml.j2").write_text('password = "{{ db_password }}"\n')
    from testkit.builder import build_world, install_home

    install_home(build_world(made.world).pack, made.home("gw-1"))
    seed_apis(made.world / "primary" / "apim.db")
    yield made
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f'DROP DATABASE IF EXISTS "{pg}" WITH (FORCE)'], capture_output=True)


def written_by_drydock(env: Env) -> list[Path]:
    """State, history, journal, lock, saved plans and every manifest and marker."""
    found = [p for p in (env.spec / "state").rglob("*") if p.is_file()]
    found += [p for p in env.spec.glob("*.json") if p.is_file()]
    for vault in ("primary", "dr"):
        root = env.world / vault / "backups"
        found += [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".zst")]
    return found


@pytest.mark.slow(12)
def test_no_secret_value_is_written_anywhere_and_files_are_owner_only(env: Env):
    runs = [env.run("plan", ".", "-o", "plan.json", env=SECRETS, check=0),
            env.run("apply", "plan.json", "--env", ".", env=SECRETS, check=0),
            env.run("plan", ".", "--format", "json", env=SECRETS, check=0),
            env.run("drift", ".", "--format", "json", env=SECRETS),
            env.run("backups", "list", "--env", ".", "--format", "json", env=SECRETS, check=0),
            env.run("state", "history", "--env", ".", env=SECRETS)]
    later = {**SECRETS, "DRYDOCK_NOW": "2026-01-09T02:00:00+00:00"}
    runs.append(env.run("apply", ".", "--auto-approve", env=later, check=0))  # drill again
    assert "drill" in runs[1].stdout + runs[1].stderr
    for proc in runs:
        for value in (DB_SECRET, CONF_SECRET, HMAC_SECRET):
            assert value not in proc.stdout and value not in proc.stderr, proc.args
    files = written_by_drydock(env)
    assert any(p.name == "manifest.json" for p in files)
    assert any(p.suffix == ".journal" or "journal" in p.name for p in files)
    for path in files:
        data = path.read_bytes()
        for value in (DB_SECRET, CONF_SECRET, HMAC_SECRET):
            assert value.encode() not in data, path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in [env.spec / "state", *(p for p in (env.spec / "state").rglob("*")
                                          if p.is_dir())]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    # snapshot manifests are signed; a replicated artifact is trusted through the digest
    # its (signed) snapshot manifest names, so its own manifest carries no mac
    manifests = [json.loads(p.read_bytes()) for p in files if p.name == "manifest.json"
                 and ".drydock-artifacts" not in p.parts]
    assert manifests
    assert all(m["mac"].startswith("hmac-sha256:") for m in manifests)
    conf = env.home("gw-1") / "repository" / "conf" / "deployment.toml"
    assert CONF_SECRET in conf.read_text()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600  # holds a secret, no mode declared


def test_a_manifest_rewritten_without_the_key_is_refused_by_the_drill(env: Env):
    extra = env.spec / "extra.yaml"
    extra.write_text(extra.read_text().replace("every: 24h", "every: 30d"))  # drill, no backup
    env.run("apply", ".", "--auto-approve", env=SECRETS, check=0)
    series = env.world / "dr" / "backups" / "apim-db"
    (snapshot,) = [p for p in series.iterdir() if p.is_dir()]
    manifest = json.loads((snapshot / "manifest.json").read_bytes())
    part = snapshot / "database.sqlite.zst"
    if not part.exists():
        part = next(p for p in snapshot.iterdir() if p.suffix == ".zst")
    import zstandard

    evil = zstandard.ZstdCompressor().compress(b"not what was backed up")
    part.write_bytes(evil)
    for info in manifest["parts"]:
        if info["name"] + ".zst" == part.name:
            info.update(sha256=hashlib.sha256(evil).hexdigest(), size=len(evil))
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    later = {**SECRETS, "DRYDOCK_NOW": "2026-01-09T02:00:00+00:00"}
    proc = env.run("apply", ".", "--auto-approve", env=later)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (f"snapshot apim-db/{snapshot.name}: manifest has a MAC that does not verify"
            in proc.stderr)
    assert not (env.world / "scratch" / "apim.db").exists()
