"""Recovery exactly as it ran, data in and data out: a snapshot naming its replicated
artifacts is rebuilt from them alone (never the spec's folders), the plan says per server
where each part comes from and its RPO, and a surviving state that records something
newer is named."""

from __future__ import annotations

from datetime import timedelta

from engine.contracts.catalog import CatalogEntry, catalog_to_data
from engine.planners.recover import plan_recover, recovery_scope
from state.document import ResourceRecord, new_document
from tests.engine.planners.test_recover_planner import NOW, snap, spec


def ref(kind: str, name: str, digest: str, **identity: object) -> dict:
    return {"kind": kind, "name": name, "sha256": digest * 64, "size": 10, **identity}


ARTIFACTS = [ref("pack", "p.zip", "a", update_level=2),
             ref("update", "WSO2-CARBON-UPDATE-4.9.0-0003.zip", "b", level=3),
             ref("update", "WSO2-CARBON-UPDATE-4.9.0-0004.zip", "c", level=4),
             ref("patch", "WSO2-CARBON-PATCH-4.9.0-0007.zip", "d",
                 patch_id="WSO2-CARBON-PATCH-4.9.0-0007", patch_dir="patch0007")]
FACTS = {"update_level": 4, "patches": ["patch0007"], "artifacts": ARTIFACTS,
         "pack_update_level": 2}


def plan(doc=None, facts=FACTS, pack_levels=None):  # noqa: ANN001, ANN201
    gw = snap("gw-runtime", "20260310T100000Z-post-ab12cd", 2, kind="server", facts=facts)
    return plan_recover(spec(), doc or new_document("t"), recovery_scope(spec(), "dr"),
                        {"gw-runtime": gw, "db": snap("db", "d1", 3)},
                        pack_levels=pack_levels or {},
                        digests={"gw-runtime": {"repository/conf/deployment.toml": "sha256:cc"}},
                        plan_id="p1", now=NOW)


def test_every_archive_comes_from_the_replicated_artifact_never_the_spec_folders() -> None:
    planned = plan()
    by_id = {a.id: a for a in planned.plan.actions if a.address == "server.gw"}
    install = by_id["server.gw/install"].params
    assert install["pack"] == "p.zip"
    assert install["pack_artifact"] == {"repository": "dv", "sha256": "a" * 64,
                                        "name": "p.zip", "size": 10}
    assert by_id["server.gw/update-0004"].params["package_artifact"]["sha256"] == "c" * 64
    assert by_id["server.gw/patch-add-patch0007"].params["archive_artifact"]["sha256"] == \
        "d" * 64
    assert "server.gw/update-0002" not in by_id  # the pack's own level, from the snapshot
    flat = repr([a.params for a in by_id.values()])
    assert "/w/" not in flat  # no path of the spec's (lost) artifact folders anywhere


def test_the_plan_says_where_each_part_comes_from_and_the_rpo() -> None:
    planned = plan()
    source = next(s for s in planned.sources if s.server == "gw")
    assert source.snapshot == "20260310T100000Z-post-ab12cd" and source.repository == "dv"
    assert source.age_seconds == 7200 and source.host == "b"
    parts = {p.part: p for p in source.parts}
    assert parts["update level 4"].source == (
        f"artifact {'c' * 12} (WSO2-CARBON-UPDATE-4.9.0-0004.zip) in dv")
    assert parts["runtime data (conf, patches, deployments, keystores, tenants, updates)"] \
        .source == "snapshot 20260310T100000Z-post-ab12cd of gw-runtime in dv"
    assert all(p.replicated for p in source.parts)
    assert planned.newer == ()


def test_an_archive_the_snapshot_does_not_name_falls_back_and_says_so() -> None:
    facts = {**FACTS, "artifacts": ARTIFACTS[:2],
             "artifacts_missing": ["update level 4: /w/u/x.zip: No such file"]}
    planned = plan(facts=facts)
    source = next(s for s in planned.sources if s.server == "gw")
    fallback = {p.part: p for p in source.parts}["update level 4"]
    assert not fallback.replicated and "/w/u/" in fallback.source
    assert any("update level 4 is not replicated in dv" in w for w in planned.missing)
    assert any("when snapshot 20260310T100000Z-post-ab12cd was taken, update level 4" in w
               for w in planned.plan.warnings)


def test_a_surviving_state_newer_than_the_snapshot_is_named() -> None:
    doc = new_document("t")
    server = ResourceRecord(kind="server", name="gw", attributes={
        "update_level": 5, "patches": ["patch0007", "patch0008"],
        "config:repository/conf/deployment.toml": "sha256:dd"})
    newer = CatalogEntry(id="20260310T113000Z-post-ffffff", series="gw-runtime",
                         repository="pv", created=NOW - timedelta(minutes=30))
    series = ResourceRecord(kind="backup", name="gw-runtime",
                            data={"catalog": catalog_to_data([newer])})
    doc = doc.model_copy(update={"resources": {"server.gw": server, "backup.gw-runtime": series}})
    planned = plan(doc=doc)
    line = next(w for w in planned.newer if w.startswith("server.gw:"))
    assert "update level 5 (the snapshot: 4)" in line
    assert "patches patch0007, patch0008 (the snapshot: patch0007)" in line
    assert "repository/conf/deployment.toml sha256:dd (the snapshot: sha256:cc)" in line
    line = next(w for w in planned.newer if w.startswith("backup.gw-runtime:"))
    assert "20260310T113000Z-post-ffffff" in line and "never reached dr (recorded in pv)" in line
    assert "by 1h30m" in line
    assert set(planned.newer) <= set(planned.plan.warnings)
