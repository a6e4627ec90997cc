"""RDS from a spec (moto over HTTP): an rds database is observed through the RDS API,
`aws` repositories open as RDS snapshot stores, and the backup provider lists them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.contracts.provider import ObserveRequest
from engine.spec.loader import LoadedSpec, load_spec
from providers.aws.rds import RdsSnapshotStore
from providers.backups.provider import BackupProvider
from providers.databases.resource import DatabaseProvider
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository, open_store
from tests.providers.aws.conftest import DR_REGION, REGION


def spec_for(tmp_path: Path, endpoint: str, identifier: str, series: str) -> LoadedSpec:
    (tmp_path / "env.yaml").write_text(
        "environment: t\nsites: {primary: {}, dr: {}}\n"
        f"databases:\n  apim_db: {{engine: rds, identifier: {identifier}, region: {REGION}}}\n"
        "repositories:\n"
        f"  rds-primary: {{site: primary, type: aws, region: {REGION}, "
        f"endpoint_url: '{endpoint}'}}\n"
        f"  rds-dr: {{site: dr, type: aws, region: {DR_REGION}, endpoint_url: '{endpoint}'}}\n"
        f"backups:\n  {series}:\n    source: {{database: apim_db}}\n    every: 24h\n"
        "    repository: rds-primary\n    copies: [rds-dr]\n")
    return load_spec(tmp_path)


def observe(provider: Any, spec: LoadedSpec, address: str, kind: str) -> Any:
    return provider.observe(ObserveRequest(address=address, kind=kind, spec=spec,
                                           desired=None, recorded=None))


def test_an_rds_database_is_observed_with_its_status_and_engine(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str) -> None:
    spec = spec_for(tmp_path, moto_endpoint, instance, series)
    seen = observe(DatabaseProvider(), spec, "database.apim_db", "database")
    assert seen.exists
    assert seen.facts["status"] == "available"
    assert seen.facts["engine"] == "postgres"
    assert seen.facts["allocated_storage_bytes"] == 20 << 30


def test_a_missing_rds_instance_is_observed_as_absent(
        tmp_path: Path, moto_endpoint: str, aws_env: None, series: str) -> None:
    spec = spec_for(tmp_path, moto_endpoint, "no-such-instance", series)
    seen = observe(DatabaseProvider(), spec, "database.apim_db", "database")
    assert seen.exists is False and seen.error is None
    assert seen.facts["endpoint"] == moto_endpoint


def test_aws_repositories_open_as_rds_stores_and_not_as_byte_repositories(
        tmp_path: Path, moto_endpoint: str, aws_env: None, series: str) -> None:
    spec = spec_for(tmp_path, moto_endpoint, "apim", series)
    store = open_store(spec, "rds-dr")
    assert isinstance(store, RdsSnapshotStore)
    assert (store.name, store.region, store.endpoint.endpoint_url) == (
        "rds-dr", DR_REGION, moto_endpoint)
    with pytest.raises(RepositoryError, match="holds AWS RDS snapshots, not files or dumps"):
        open_repository(spec, "rds-dr")


def test_the_backup_catalog_lists_rds_snapshots_in_both_regions(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str,
        rds_client: Callable[[str], Any]) -> None:
    from datetime import UTC, datetime

    from providers.repositories.manifest import SnapshotFields, SnapshotSource

    spec = spec_for(tmp_path, moto_endpoint, instance, series)
    primary, dr = open_store(spec, "rds-primary"), open_store(spec, "rds-dr")
    assert isinstance(primary, RdsSnapshotStore) and isinstance(dr, RdsSnapshotStore)
    created = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    fields = SnapshotFields(source=SnapshotSource(kind="database", address="database.apim_db",
                                                  engine="rds"), created=created)
    primary.create(series, "20260101T020000Z-a1b2c3", instance=instance, fields=fields)
    primary.create(series, "20260102T020000Z-a1b2c3", instance=instance, fields=fields)
    dr.copy_from(primary, series, "20260101T020000Z-a1b2c3")
    catalog = observe(BackupProvider(), spec, f"backup.{series}", "backup").facts["catalog"]
    assert [e["id"] for e in catalog["rds-primary"]] == [
        "20260101T020000Z-a1b2c3", "20260102T020000Z-a1b2c3"]
    assert [(e["id"], e["size"]) for e in catalog["rds-dr"]] == [
        ("20260101T020000Z-a1b2c3", 20 << 30)]
