"""A WSO2-shaped PostgreSQL database (tests/helpers/schema_shape.py) and its full picture.

`build(conn)` creates 240 tables in families, ids from sequences as WSO2's postgresql.sql
does, foreign keys (some by ALTER TABLE), indexes, views, a materialized view, trigger
functions and AFTER INSERT triggers, a function and a procedure, an enum type and a
domain, a second schema with a non-ASCII name, non-ASCII identifiers, a multi-MiB bytea
and large objects (pg_largeobject). `picture(conn)` reads back everything a restore must
keep: each table's rows, columns with types and defaults, constraints, indexes, views,
triggers, routines, types, sequences' positions and the large objects' bytes.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import schema_shape as shape


def _group_ddl(g: shape.Group) -> list[str]:
    b = g.base.lower()
    fk = f"FOREIGN KEY (parent_id) REFERENCES {b}(id) ON DELETE CASCADE"
    out = [
        f"CREATE SEQUENCE {b}_seq",
        f"CREATE TABLE {b} (id INTEGER DEFAULT nextval('{b}_seq') NOT NULL, tenant_id "
        "tenant_id, name VARCHAR(255) NOT NULL, uuid VARCHAR(36), created TIMESTAMP, "
        "is_enabled CHAR(1) DEFAULT '1', state lifecycle_state DEFAULT 'CREATED', "
        "PRIMARY KEY (id), UNIQUE (name, tenant_id))",
        f"CREATE INDEX idx_{b}_created ON {b}(created)",
        f"CREATE TABLE {b}_metadata (id SERIAL PRIMARY KEY, parent_id INTEGER, name "
        f"VARCHAR(255) NOT NULL, value VARCHAR(2048), CONSTRAINT {b}_md_unq UNIQUE "
        f"(parent_id, name), {fk})",
        f"CREATE TABLE {b}_mapping (parent_id INTEGER NOT NULL, role_name VARCHAR(255) NOT "
        "NULL, PRIMARY KEY (parent_id, role_name)" + ("" if g.fk_by_alter else f", {fk}") + ")",
        f"CREATE TABLE {b}_content (id SERIAL PRIMARY KEY, parent_id INTEGER NOT NULL, "
        f"content BYTEA, media_type VARCHAR(100), {fk})",
        f"CREATE TABLE {b}_audit (id SERIAL PRIMARY KEY, parent_id INTEGER, action "
        "VARCHAR(20), detail VARCHAR(300))",
        f"CREATE TABLE {b}_legacy (id INTEGER PRIMARY KEY, note TEXT COLLATE \"C\")",
        f"CREATE TRIGGER {b}_after_insert AFTER INSERT ON {b} FOR EACH ROW EXECUTE "
        f"FUNCTION audit_insert('{b}_audit')",
        f"CREATE VIEW {b}_summary AS SELECT p.id, p.name, count(m.id) AS metadata_count "
        f"FROM {b} p LEFT JOIN {b}_metadata m ON m.parent_id = p.id GROUP BY p.id, p.name",
    ]
    if g.fk_by_alter:
        out.append(f"ALTER TABLE {b}_mapping ADD CONSTRAINT {b}_map_fk FOREIGN KEY "
                   f"(parent_id) REFERENCES {b}(id) ON DELETE CASCADE")
    return out


PRELUDE = [
    "CREATE TYPE lifecycle_state AS ENUM ('CREATED', 'PUBLISHED', 'RETIRED')",
    "CREATE DOMAIN tenant_id AS INTEGER DEFAULT -1234 CHECK (VALUE >= -1234)",
    "CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "EXECUTE format('INSERT INTO %I (parent_id, action, detail) VALUES ($1, $2, $3)', "
    "TG_ARGV[0]) USING NEW.id, 'CREATE', 'created ' || NEW.name; RETURN NEW; END $$",
]
SPECIAL_DDL = [
    "CREATE FUNCTION am_tenant_domain(tenant INTEGER) RETURNS VARCHAR LANGUAGE sql "
    "IMMUTABLE AS $$ SELECT CASE WHEN tenant = -1234 THEN 'carbon.super' ELSE "
    "'tenant-' || tenant END $$",
    "CREATE PROCEDURE am_retire(api INTEGER) LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE am_api_00 SET state = 'RETIRED' WHERE id = api; END $$",
    "CREATE VIEW am_api_tenants AS SELECT id, am_tenant_domain(tenant_id) AS domain "
    "FROM am_api_00",
    "CREATE MATERIALIZED VIEW am_api_states AS SELECT state, count(*) AS n FROM am_api_00 "
    "GROUP BY state",
    'CREATE SCHEMA "análisis"',
    'CREATE TABLE "análisis"."ÄPI_Übersicht" ("nummer" INTEGER PRIMARY KEY, "größe" '
    'NUMERIC(10,2), "名前" VARCHAR(50))',
    'CREATE VIEW "análisis"."übersicht_groß" AS SELECT "nummer", "名前" FROM '
    '"análisis"."ÄPI_Übersicht" WHERE "größe" > 1',
    "CREATE TABLE am_large_object (id INTEGER PRIMARY KEY, data BYTEA, doc TEXT, "
    "blob_oid OID)",
]


def build(conn: Any) -> None:
    """Create the schema and its rows through an autocommit psycopg connection."""
    for statement in PRELUDE + [s for g in shape.groups() for s in _group_ddl(g)] + \
            SPECIAL_DDL:
        conn.execute(statement)
    with conn.cursor() as cur:
        for g in shape.groups():
            b = g.base.lower()
            cur.executemany(f"INSERT INTO {b} (tenant_id, name, uuid, created, is_enabled) "
                            "VALUES (%s, %s, %s, %s, %s)",
                            [r[1:] for r in shape.parent_rows(g)])
            cur.executemany(f"INSERT INTO {b}_metadata (parent_id, name, value) VALUES "
                            "(%s, %s, %s)", shape.metadata_rows(g))
            cur.executemany(f"INSERT INTO {b}_mapping VALUES (%s, %s)", shape.mapping_rows(g))
            cur.executemany(f"INSERT INTO {b}_content (parent_id, content, media_type) VALUES "
                            "(%s, %s, %s)", shape.content_rows(g))
            cur.executemany(f"INSERT INTO {b}_legacy VALUES (%s, %s)", shape.legacy_rows())
    conn.execute("CALL am_retire(3)")
    conn.execute("UPDATE am_api_00 SET state = 'PUBLISHED' WHERE id = 2")
    conn.execute("REFRESH MATERIALIZED VIEW am_api_states")
    conn.execute('INSERT INTO "análisis"."ÄPI_Übersicht" VALUES (1, 2.50, \'größer\'), '
                 "(2, 0.5, 'klein'), (3, 9.99, 'Ünïcödé 名前')")
    data = shape.large_object()
    conn.execute("INSERT INTO am_large_object VALUES (1, %s, %s, lo_from_bytea(0, %s))",
                 (data, "ü" * 200_000, data[: len(data) // 2]))
    conn.execute("SELECT lo_from_bytea(0, %s)", (b"an orphan large object \x00\xff",))
    conn.execute(f"SELECT setval('{shape.groups()[1].base.lower()}_seq', 500)")


_USER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%%'"


def picture(conn: Any) -> dict[str, Any]:
    """Everything in the connected database a restore must bring back, by kind."""
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.execute(sql).fetchall()]

    out: dict[str, Any] = {
        "database": rows("SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM "
                         "pg_database WHERE datname = current_database()"),
        "columns": rows(
            "SELECT table_schema, table_name, column_name, ordinal_position, data_type, "
            "udt_name, domain_name, column_default, is_nullable, collation_name FROM "
            "information_schema.columns WHERE table_schema NOT IN ('pg_catalog', "
            "'information_schema') ORDER BY 1, 2, 4"),
        "constraints": rows(
            f"SELECT n.nspname, c.conrelid::regclass::text, c.conname, "
            f"pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON "
            f"n.oid = c.connamespace WHERE {_USER} ORDER BY 1, 2, 3"),
        "indexes": rows("SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes "
                        "WHERE schemaname NOT IN ('pg_catalog') ORDER BY 1, 2, 3"),
        "views": rows("SELECT schemaname, viewname, definition FROM pg_views WHERE schemaname "
                      "NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"),
        "matviews": rows("SELECT schemaname, matviewname, definition, ispopulated FROM "
                         "pg_matviews ORDER BY 1, 2"),
        "triggers": rows("SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM "
                         "pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"),
        "routines": rows(
            f"SELECT n.nspname, p.proname, p.prokind, pg_get_function_identity_arguments("
            f"p.oid), p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            f"WHERE {_USER} ORDER BY 1, 2"),
        "types": rows(
            f"SELECT n.nspname, t.typname, t.typtype, pg_catalog.format_type(t.typbasetype, "
            f"t.typtypmod), (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) "
            f"FROM pg_enum e WHERE e.enumtypid = t.oid), (SELECT string_agg("
            f"pg_get_constraintdef(c.oid), ',') FROM pg_constraint c WHERE c.contypid = "
            f"t.oid) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE "
            f"{_USER} AND t.typtype IN ('e', 'd') ORDER BY 1, 2"),
        "sequences": rows("SELECT schemaname, sequencename, last_value FROM pg_sequences "
                          "ORDER BY 1, 2"),
        "large_objects": rows("SELECT oid, md5(lo_get(oid)) FROM pg_largeobject_metadata "
                              "ORDER BY 1"),
    }
    tables = rows("SELECT table_schema, table_name FROM information_schema.tables WHERE "
                  "table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', "
                  "'information_schema') ORDER BY 1, 2")
    from psycopg import sql

    out["rows"] = {
        f"{s}.{t}": sorted((tuple(r) for r in conn.execute(sql.SQL("SELECT * FROM {}.{}").format(
            sql.Identifier(s), sql.Identifier(t))).fetchall()), key=repr)
        for s, t in tables}
    return out
