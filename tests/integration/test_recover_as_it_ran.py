"""Recovery brings back exactly what ran, from the surviving site alone.

One apply raises gw-1 to update level 13, adds a patch and renders new config; the
packs, update packages and patch archives live at the primary site. Then the primary
site is lost with everything in it (hosts, database, repository, artifact folders).
`recover --site dr` runs the real CLI under an audit hook that logs every file the
process opens, lists, creates or removes below the lost site's folder: the rebuilt home
is byte-identical (conf, patches, updates, plugins), the rows are back, and the log is
empty. A surviving state that knows of a newer change than the site's snapshots is
reported, naming the difference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.servers import (
    CHILD_ENV,
    Estate,
    Gateway,
    home_at_level,
    level_pack,
    server_status,
    tree,
)
from tests.helpers.world import seed_apis, tree_digest
from tests.integration.test_recover import drydock, estate, rows

__all__ = ["estate"]  # the fixture: an estate with a primary and a dr host

pytestmark = pytest.mark.integration

ARTIFACTS = "{{ world }}/primary/artifacts"
BASE = f"""\
environment: t
vars: {{world: world}}
state: {{backend: local, path: state/t.json}}
sites: {{primary: {{}}, dr: {{}}}}
hosts:
  node-a: {{site: primary, transport: local, root: "{{{{ world }}}}/primary"}}
  node-b: {{site: dr, transport: local, root: "{{{{ world }}}}/dr"}}
products:
  wso2am-4.2.0:
    pack: "{ARTIFACTS}/packs/wso2am-4.2.0.zip"
    updates: "{ARTIFACTS}/updates"
    patches: "{ARTIFACTS}/patches"
databases:
  apim_db: {{engine: sqlite, path: "{{{{ world }}}}/primary/apim.db", site: primary}}
  apim_db_dr: {{engine: sqlite, path: "{{{{ world }}}}/dr/apim.db", site: dr}}
repositories:
  primary-vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups"}}
  dr-vault: {{site: dr, type: local, path: "{{{{ world }}}}/dr/backups"}}
backups:
  apim-db: {{source: {{database: apim_db}}, every: 24h, repository: primary-vault,
            copies: [dr-vault]}}
  gw-1-runtime: {{source: {{server: gw-1}}, every: 24h, keep: {{last: 4}},
                 repository: primary-vault, copies: [dr-vault]}}
recover:
  dr:
    hosts: {{node-a: node-b}}
    databases: {{apim_db: apim_db_dr}}
"""
COMPARED = ("repository/conf", "repository/components/patches", "repository/components/plugins",
            "updates")

AUDITED = """\
import os, runpy, sys
LOST = os.environ["DRYDOCK_TEST_LOST"]
LOG = os.environ["DRYDOCK_TEST_ACCESS_LOG"]
EVENTS = {"open", "os.listdir", "os.scandir", "os.mkdir", "os.rename", "os.remove",
          "os.rmdir", "shutil.rmtree", "os.chmod", "os.utime", "os.symlink", "os.link",
          "os.truncate", "shutil.copyfile", "shutil.copytree", "os.chdir", "glob.glob"}
seen = []
def hook(event, args):
    if event in EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path == LOST or path.startswith(LOST + os.sep):
            seen.append(f"{event} {path}")
sys.addaudithook(hook)
import atexit
atexit.register(lambda: open(LOG, "w").write("\\n".join(seen)))
sys.argv = ["drydock", *sys.argv[1:]]
runpy.run_module("engine", run_name="__main__", alter_sys=True)
"""


def audited(estate: Estate, tmp_path: Path, *args: str,
            check: int) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The real CLI with an audit hook logging every access below the lost site."""
    script, log = tmp_path / "audited.py", tmp_path / "access.log"
    script.write_text(AUDITED)
    env = {**os.environ, **CHILD_ENV, "DRYDOCK_TEST_LOST": str(estate.world / "primary"),
           "DRYDOCK_TEST_ACCESS_LOG": str(log), "PYTHONPATH": str(Path.cwd())}
    proc = subprocess.run([sys.executable, str(script), *args], cwd=estate.spec,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == check, f"recover exited {proc.returncode}\nstdout:\n" \
        f"{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc, [line for line in log.read_text().splitlines() if line]


def move_artifacts_to_the_primary_site(estate: Estate) -> None:
    """Where operators keep them: the packs, updates and patches folders at the primary."""
    target = estate.world / "primary" / "artifacts"
    target.mkdir(parents=True)
    for name in ("packs", "updates", "patches"):
        shutil.move(estate.world / name, target / name)


def change_gw1(estate: Estate) -> Gateway:
    """Level 10 without patches, applied; then level 13, a patch and new config."""
    (estate.spec / "env.yaml").write_text(BASE)
    gateway = Gateway("gw-1", level=10)
    estate.declare(gateway)
    home_at_level(estate, "gw-1", 2)
    move_artifacts_to_the_primary_site(estate)
    seed_apis(estate.world / "primary" / "apim.db", ("pizza", "weather", "pay"))
    drydock(estate, "apply", ".", "--auto-approve", check=0)
    changed = Gateway("gw-1", level=13, patches=(5,), port=gateway.port)
    estate.declare(changed)
    template = estate.spec / "templates" / "deployment.toml.j2"
    template.write_text(template.read_text() + "\n[apim.cors]\nallow_origins = \"*\"\n")
    return changed


def trees(home: Path) -> dict[str, dict[str, str]]:
    return {part: tree_digest(home / part) for part in COMPARED}


def lose_the_primary_site(estate: Estate) -> None:
    estate.stop_all()
    shutil.rmtree(estate.world / "primary")


def test_recover_rebuilds_what_ran_after_the_last_apply_reading_nothing_of_the_lost_site(
        estate: Estate, tmp_path: Path) -> None:
    gateway = change_gw1(estate)
    proc = drydock(estate, "apply", ".", "--auto-approve", check=0)
    assert "create-after-change" in proc.stdout or "after the change" in proc.stdout
    home = estate.home("gw-1")
    before = trees(home)
    assert int(json.loads((home / "updates/config.json").read_text())["update-level"]) == 13
    assert "patch0005" in {p.split("/")[0] for p in before["repository/components/patches"]}
    expected_rows = rows(estate.world / "primary" / "apim.db")
    listing = json.loads(drydock(estate, "backups", "list", "gw-1-runtime", "--format", "json",
                                 check=0).stdout)["snapshots"]
    newest_dr = [s for s in listing if "dr-vault" in (s["repository"], *s["copies"])][-1]
    assert "-post-" in newest_dr["id"]  # the snapshot after the change reached the dr site
    stored = sorted((estate.world / "dr/backups/.drydock-artifacts").iterdir())
    names = {json.loads((d / "manifest.json").read_text())["name"] for d in stored}
    assert {"wso2am-4.2.0.zip", "WSO2-CARBON-PATCH-4.9.0-0005.zip"} <= names
    assert {f"WSO2-CARBON-UPDATE-4.9.0-{n:04d}.zip" for n in range(1, 14)} <= names

    _proc, control = audited(estate, tmp_path, "backups", "verify", newest_dr["id"], check=0)
    assert any("/primary/backups" in line for line in control)  # the hook does see reads

    lose_the_primary_site(estate)
    proc, accessed = audited(estate, tmp_path, "recover", "--site", "dr", "--auto-approve",
                             "--format", "json", check=0)
    assert accessed == [], "recovery touched the lost site:\n" + "\n".join(accessed[:20])
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["newer_in_state"] == []
    source = next(s for s in report["sources"] if s["server"] == "gw-1")
    assert source["snapshot"] == newest_dr["id"] and source["repository"] == "dr-vault"
    assert all(p["replicated"] for p in source["parts"])
    assert {p["part"] for p in source["parts"]} >= {"pack wso2am-4.2.0",
                                                    "update level 13",
                                                    "patch WSO2-CARBON-PATCH-4.9.0-0005"}

    rebuilt = estate.world / "dr" / "opt" / "gw-1"
    assert trees(rebuilt) == before
    assert rows(estate.world / "dr" / "apim.db") == expected_rows
    status = server_status(gateway)
    assert status is not None and status["update_level"] == 13


def test_a_surviving_state_newer_than_the_sites_snapshots_is_named(estate: Estate,
                                                                   tmp_path: Path) -> None:
    change_gw1(estate)
    # the change is applied alone: its snapshot lands at the primary, never copied to dr
    drydock(estate, "plan", ".", "--target", "server.gw-1", "-o", "change.json", check=0)
    drydock(estate, "apply", "change.json", "--auto-approve", check=0)
    lose_the_primary_site(estate)
    proc, accessed = audited(estate, tmp_path, "recover", "--site", "dr", "--format", "json",
                             check=1)
    assert accessed == []
    newer = json.loads(proc.stdout)["newer_in_state"]
    server = next(line for line in newer if line.startswith("server.gw-1:"))
    assert "update level 13 (the snapshot: 10)" in server
    assert "patches patch0005 (the snapshot: none)" in server
    assert "repository/conf/deployment.toml" in server
    series = next(line for line in newer if line.startswith("backup.gw-1-runtime:"))
    assert "never reached dr (recorded in primary-vault)" in series
    text = drydock(estate, "recover", "--site", "dr", check=1).stdout
    assert "The surviving state records something newer than these snapshots" in text


def test_a_replaced_server_is_rebuilt_from_the_updated_pack_it_ran(estate: Estate,
                                                                   tmp_path: Path) -> None:
    (estate.spec / "env.yaml").write_text(BASE)
    gateway = Gateway("gw-1", level=10, strategy="replace", service=False)
    estate.declare(gateway)
    home_at_level(estate, "gw-1", 2)
    updated = level_pack(estate, 10)
    # what only the updated pack holds: a rebuild from the pack and the update packages
    # would not have it
    with zipfile.ZipFile(updated) as z:
        top = z.namelist()[0].split("/")[0]
    with zipfile.ZipFile(updated, "a") as z:
        z.writestr(f"{top}/lib/built-into-the-level-10-pack.txt", "vendor build 10\n")
    move_artifacts_to_the_primary_site(estate)
    seed_apis(estate.world / "primary" / "apim.db", ("pizza",))
    proc = drydock(estate, "apply", ".", "--auto-approve", check=0)
    assert "replace gw-1's home with wso2am-4.2.0-level10.zip" in proc.stdout
    home = estate.home("gw-1")
    assert (home / "lib/built-into-the-level-10-pack.txt").is_file()
    ran = tree(home)

    lose_the_primary_site(estate)
    proc, accessed = audited(estate, tmp_path, "recover", "--site", "dr", "--auto-approve",
                             "--format", "json", check=0)
    assert accessed == [], "recovery touched the lost site:\n" + "\n".join(accessed[:20])
    report = json.loads(proc.stdout)
    steps = [a for a in report["plan"]["actions"] if a["address"] == "server.gw-1"]
    assert [a["type"] for a in steps] == ["server.install", "restore.paths"]
    assert steps[0]["params"]["pack"] == "wso2am-4.2.0-level10.zip"
    source = next(s for s in report["sources"] if s["server"] == "gw-1")
    assert [p["part"] for p in source["parts"]][0] == "pack wso2am-4.2.0"
    assert "(wso2am-4.2.0-level10.zip) in dr-vault" in source["parts"][0]["source"]
    assert tree(estate.world / "dr" / "opt" / "gw-1") == ran
