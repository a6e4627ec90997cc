"""A WSO2-shaped MariaDB database (tests/helpers/schema_shape.py) and its full picture.

`build(conn)` creates 240 InnoDB tables in families with foreign keys (some added by
ALTER TABLE), indexes, views (one calling a stored function), AFTER INSERT triggers,
functions, a procedure, a disabled event, latin1 tables next to utf8mb4 ones, ENUM and
SET columns, zero dates, non-ASCII identifiers and a multi-MiB LONGBLOB.
`picture(conn, db)` reads back everything a restore must keep: every table's rows (by
table), column types with charsets and collations, table options, views, triggers,
routines, events and the database's defaults.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import schema_shape as shape


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _group_ddl(g: shape.Group) -> list[str]:
    b = g.base
    fk = (f"FOREIGN KEY (PARENT_ID) REFERENCES {b}(ID) ON DELETE CASCADE")
    out = [
        f"CREATE TABLE {b} (ID INTEGER NOT NULL AUTO_INCREMENT, TENANT_ID INTEGER DEFAULT "
        "-1234, NAME VARCHAR(255) NOT NULL, UUID VARCHAR(36), CREATED TIMESTAMP NULL, "
        "IS_ENABLED CHAR(1) DEFAULT '1', STATE ENUM('CREATED','PUBLISHED','RETIRED') DEFAULT "
        "'CREATED', PRIMARY KEY (ID), UNIQUE (NAME, TENANT_ID)) ENGINE INNODB",
        f"CREATE INDEX IDX_{b}_CREATED ON {b}(CREATED)",
        f"CREATE TABLE {b}_METADATA (ID INTEGER NOT NULL AUTO_INCREMENT, PARENT_ID INTEGER, "
        f"NAME VARCHAR(255) NOT NULL, VALUE VARCHAR(2048), PRIMARY KEY (ID), "
        f"CONSTRAINT {b}_MD_UNQ UNIQUE (PARENT_ID, NAME), {fk}) ENGINE INNODB",
        f"CREATE TABLE {b}_MAPPING (PARENT_ID INTEGER NOT NULL, ROLE_NAME VARCHAR(255) NOT "
        "NULL, PRIMARY KEY (PARENT_ID, ROLE_NAME)"
        + ("" if g.fk_by_alter else f", {fk}") + ") ENGINE INNODB",
        f"CREATE TABLE {b}_CONTENT (ID INTEGER NOT NULL AUTO_INCREMENT, PARENT_ID INTEGER "
        f"NOT NULL, CONTENT MEDIUMBLOB, MEDIA_TYPE VARCHAR(100), PRIMARY KEY (ID), {fk}) "
        "ENGINE INNODB",
        f"CREATE TABLE {b}_AUDIT (ID INTEGER NOT NULL AUTO_INCREMENT, PARENT_ID INTEGER, "
        "ACTION VARCHAR(20), DETAIL VARCHAR(300), PRIMARY KEY (ID)) ENGINE INNODB",
        f"CREATE TABLE {b}_LEGACY (ID INTEGER NOT NULL, NOTE VARCHAR(255), PRIMARY KEY (ID)) "
        "ENGINE INNODB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci",
        f"CREATE TRIGGER {b}_AFTER_INSERT AFTER INSERT ON {b} FOR EACH ROW INSERT INTO "
        f"{b}_AUDIT (PARENT_ID, ACTION, DETAIL) VALUES (NEW.ID, 'CREATE', "
        "CONCAT('created ', NEW.NAME))",
        f"CREATE VIEW {b}_SUMMARY AS SELECT p.ID, p.NAME, COUNT(m.ID) AS METADATA_COUNT FROM "
        f"{b} p LEFT JOIN {b}_METADATA m ON m.PARENT_ID = p.ID GROUP BY p.ID, p.NAME",
    ]
    if g.fk_by_alter:
        out.append(f"ALTER TABLE {b}_MAPPING ADD CONSTRAINT {b}_MAP_FK FOREIGN KEY "
                   f"(PARENT_ID) REFERENCES {b}(ID) ON DELETE CASCADE")
    return out


SPECIAL_DDL = [
    "CREATE FUNCTION AM_TENANT_DOMAIN(tenant INT) RETURNS VARCHAR(64) DETERMINISTIC "
    "RETURN IF(tenant = -1234, 'carbon.super', CONCAT('tenant-', tenant))",
    "CREATE PROCEDURE AM_COUNT_APIS(IN tenant INT, OUT total INT) READS SQL DATA "
    "BEGIN SELECT COUNT(*) INTO total FROM AM_API_00 WHERE TENANT_ID = tenant; END",
    "CREATE VIEW AM_API_TENANTS AS SELECT ID, AM_TENANT_DOMAIN(TENANT_ID) AS DOMAIN "
    "FROM AM_API_00",
    "CREATE EVENT AM_CLEANUP_AUDIT ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' "
    "DISABLE DO DELETE FROM AM_API_00_AUDIT WHERE ID < 0",
    "CREATE TABLE IDN_OAUTH2_TOKEN_LEGACY (TOKEN_ID VARCHAR(255) NOT NULL, "
    "TIME_CREATED TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00', "
    "SCOPES SET('read','write','admin'), PRIMARY KEY (TOKEN_ID)) ENGINE INNODB",
    "CREATE TABLE `ÄPI_ÜBERSICHT` (`nummer` INT PRIMARY KEY, `größe` DECIMAL(10,2), "
    "`名前` VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin) ENGINE INNODB",
    "CREATE VIEW `übersicht_groß` AS SELECT `nummer`, `名前` FROM `ÄPI_ÜBERSICHT` "
    "WHERE `größe` > 1",
    "CREATE TABLE AM_LARGE_OBJECT (ID INT PRIMARY KEY, DATA LONGBLOB, DOC LONGTEXT) "
    "ENGINE INNODB",
]


def build(conn: Any) -> None:
    """Create the schema and its rows through an autocommit pymysql connection."""
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")  # zero dates allowed
        for g in shape.groups():
            for statement in _group_ddl(g):
                cur.execute(statement)
        for statement in SPECIAL_DDL:
            cur.execute(statement)
        for g in shape.groups():
            b = g.base
            cur.executemany(f"INSERT INTO {b} (ID, TENANT_ID, NAME, UUID, CREATED, IS_ENABLED)"
                            " VALUES (%s, %s, %s, %s, %s, %s)", shape.parent_rows(g))
            cur.executemany(f"INSERT INTO {b}_METADATA (PARENT_ID, NAME, VALUE) VALUES "
                            "(%s, %s, %s)", shape.metadata_rows(g))
            cur.executemany(f"INSERT INTO {b}_MAPPING VALUES (%s, %s)", shape.mapping_rows(g))
            cur.executemany(f"INSERT INTO {b}_CONTENT (PARENT_ID, CONTENT, MEDIA_TYPE) VALUES "
                            "(%s, %s, %s)", shape.content_rows(g))
            cur.executemany(f"INSERT INTO {b}_LEGACY VALUES (%s, %s)", shape.legacy_rows())
        cur.execute(f"UPDATE {shape.groups()[0].base} SET STATE = 'PUBLISHED' WHERE ID = 2")
        cur.execute("INSERT INTO IDN_OAUTH2_TOKEN_LEGACY (TOKEN_ID, SCOPES) VALUES "
                    "('zero', 'read,admin'), ('none', '')")
        cur.execute("INSERT INTO `ÄPI_ÜBERSICHT` VALUES (1, 2.50, 'größer'), (2, 0.5, 'klein'),"
                    " (3, 9.99, 'Ünïcödé 名前')")
        cur.execute("INSERT INTO AM_LARGE_OBJECT VALUES (1, %s, %s)",
                    (shape.large_object(), "ü" * 200_000))


def picture(conn: Any, db: str) -> dict[str, Any]:
    """Everything in database `db` a restore must bring back, keyed by what it is."""
    out: dict[str, Any] = {}
    with conn.cursor() as cur:
        def rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
            cur.execute(sql, args)
            return [tuple(r) for r in cur.fetchall()]

        out["database"] = rows(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
            "information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", db)
        out["tables"] = rows(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, AUTO_INCREMENT FROM "
            "information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1", db)
        out["columns"] = rows(
            "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, "
            "COLUMN_DEFAULT, CHARACTER_SET_NAME, COLLATION_NAME, EXTRA FROM "
            "information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY 1, 3", db)
        out["constraints"] = rows(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
            "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k"
            " LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = "
            "k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = "
            "k.TABLE_NAME WHERE k.TABLE_SCHEMA = %s ORDER BY 1, 2, 3", db)
        out["indexes"] = rows(
            "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM "
            "information_schema.STATISTICS WHERE TABLE_SCHEMA = %s ORDER BY 1, 2, 3", db)
        out["views"] = rows(
            "SELECT TABLE_NAME, VIEW_DEFINITION, CHARACTER_SET_CLIENT, COLLATION_CONNECTION "
            "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s ORDER BY 1", db)
        out["triggers"] = rows(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
            "ACTION_STATEMENT, SQL_MODE FROM information_schema.TRIGGERS WHERE "
            "TRIGGER_SCHEMA = %s ORDER BY 1", db)
        out["routines"] = rows(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, "
            "IS_DETERMINISTIC, SQL_DATA_ACCESS, SQL_MODE, DATABASE_COLLATION FROM "
            "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s ORDER BY 1", db)
        out["events"] = rows(
            "SELECT EVENT_NAME, EVENT_DEFINITION, INTERVAL_VALUE, INTERVAL_FIELD, STARTS, "
            "STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s ORDER BY 1", db)
        base_tables = [t[0] for t in out["tables"] if t[1] == "BASE TABLE"]
        out["rows"] = {t: sorted(rows(f"SELECT * FROM {_q(db)}.{_q(t)}"), key=repr)
                       for t in base_tables}
    return out
