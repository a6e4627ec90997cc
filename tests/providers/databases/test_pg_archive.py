"""The source database's encoding and locale read from a custom-format archive's start."""

from __future__ import annotations

from providers.databases.pg_archive import SourceDatabase, source_database

ENTRY = (b"\x00\x1aCREATE DATABASE apim WITH TEMPLATE = template0 ENCODING = 'LATIN1' "
         b"LOCALE_PROVIDER = libc LOCALE = 'C';\n\x00\x1a\x00DROP DATABASE apim;\n")


def test_one_locale_for_both() -> None:
    assert source_database(b"PGDMP\x01" + ENTRY) == SourceDatabase("LATIN1", "C", "C")


def test_collate_and_ctype_apart() -> None:
    head = (b"CREATE DATABASE \"x\" WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            b"LOCALE_PROVIDER = libc LC_COLLATE = 'en_US.UTF-8' LC_CTYPE = 'C.UTF-8';\n")
    assert source_database(head) == SourceDatabase("UTF8", "en_US.UTF-8", "C.UTF-8")


def test_no_entry_or_odd_values_give_nothing_to_use() -> None:
    assert source_database(b"PGDMP no entry here") is None
    odd = (b"CREATE DATABASE x WITH TEMPLATE = template0 ENCODING = 'UTF8''; DROP' "
           b"LOCALE = 'C'' OR 1';\n")
    found = source_database(odd)
    assert found is None or (found.encoding == "UTF8" and found.lc_collate is None)
