"""The shape of a WSO2 product database, shared by the MariaDB and PostgreSQL builders.

WSO2's scripts (dbscripts/apimgt/mysql.sql, postgresql.sql) create a few hundred
upper-case tables in families — a parent with an auto-numbered ID and a tenant, its
metadata and mappings with foreign keys ON DELETE CASCADE (some added later by ALTER
TABLE), content tables holding blobs — plus indexes and seed rows. The builders here
generate that shape with their own names and data, deterministically, so a backup and
restore of it can be compared table by table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FAMILIES = ("AM_API", "AM_APPLICATION", "AM_SUBSCRIBER", "AM_POLICY", "AM_GATEWAY",
            "IDN_OAUTH2", "IDN_SCIM", "SP_APP", "IDP", "UM_TENANT")
GROUPS = 40  # families of six tables: 240 tables
ROWS_PER_PARENT = 6
LARGE_OBJECT = 3 * 1024 * 1024  # bytes in the large blob


@dataclass(frozen=True)
class Group:
    """One family of tables: parent, metadata, mapping, content, audit, legacy."""

    index: int

    @property
    def base(self) -> str:
        """The parent table's name, e.g. AM_API_07."""
        return f"{FAMILIES[self.index % len(FAMILIES)]}_{self.index:02d}"

    @property
    def fk_by_alter(self) -> bool:
        """Whether the mapping table's foreign key is added by ALTER TABLE afterwards."""
        return self.index % 2 == 1


def groups() -> list[Group]:
    """Every family, in creation order."""
    return [Group(i) for i in range(GROUPS)]


def parent_rows(group: Group) -> list[tuple[int, int, str, str, str, str]]:
    """(ID, TENANT_ID, NAME, UUID, CREATED, IS_ENABLED) rows of a parent table."""
    rng = random.Random(group.index)
    names = ["pizza", "weather ☀ météo", "naïve café", "日本語API", "o'quote", "back\\slash",
             "tab\there", "emoji 🚀"]
    out = []
    for i in range(1, ROWS_PER_PARENT + 1):
        name = f"{names[(i + group.index) % len(names)]} {i}"
        uuid = f"{rng.getrandbits(128):032x}"
        created = f"2026-{(i % 12) + 1:02d}-{(i * 3 % 28) + 1:02d} 10:{i:02d}:{i * 7 % 60:02d}"
        out.append((i, -1234 if i % 3 else i, name, uuid, created, "1" if i % 2 else "0"))
    return out


def metadata_rows(group: Group) -> list[tuple[int, str, str]]:
    """(PARENT_ID, NAME, VALUE) rows; the value is long for some."""
    return [(p, f"key.{k}", ("v" * (k * 300)) if k == 3 else f"value {p}/{k} ✓")
            for p in range(1, ROWS_PER_PARENT + 1) for k in range(1, 4)]


def mapping_rows(group: Group) -> list[tuple[int, str]]:
    """(PARENT_ID, ROLE_NAME) rows."""
    return [(p, role) for p in range(1, ROWS_PER_PARENT + 1)
            for role in ("Internal/subscriber", "admin") if (p + len(role)) % 3]


def content_rows(group: Group) -> list[tuple[int, bytes | None, str]]:
    """(PARENT_ID, CONTENT, MEDIA_TYPE) rows: binary bytes of every value, an empty one,
    a NULL."""
    rng = random.Random(1000 + group.index)
    return [(1, bytes(range(256)) * 4, "application/octet-stream"),
            (2, b"", "text/plain"), (3, None, "none"),
            (4, rng.randbytes(2048), "image/png")]


def legacy_rows() -> list[tuple[int, str]]:
    """(ID, NOTE) rows of text a latin1 table can hold."""
    return [(1, "café déjà vu"), (2, "Ångström ½ ¿qué?"), (3, "plain ascii"), (4, "")]


def large_object() -> bytes:
    """The bytes of the large object (several MiB, not compressible)."""
    return random.Random(7).randbytes(LARGE_OBJECT)
