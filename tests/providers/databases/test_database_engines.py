"""Engine registry, targets that keep their secrets, and servers that are not there."""

from __future__ import annotations

import socket

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError, DatabaseUnavailable
from providers.databases.mysql import MysqlEngine
from providers.databases.postgres import PostgresEngine
from providers.databases.sqlite import SqliteEngine


def free_port() -> int:
    """A port nothing listens on: bound once by the OS, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_registry_knows_every_engine_and_refuses_others():
    assert isinstance(engine_for("sqlite"), SqliteEngine)
    assert isinstance(engine_for("postgres"), PostgresEngine)
    assert isinstance(engine_for("mysql"), MysqlEngine)
    assert isinstance(engine_for("MariaDB"), MysqlEngine)
    with pytest.raises(DatabaseError, match="unknown database engine 'oracle'"):
        engine_for("oracle")


def test_a_target_never_shows_its_password():
    target = DatabaseTarget(engine="postgres", host="db", port=5432, user="apim",
                            dbname="apim_db", password="hunter2")
    assert "hunter2" not in repr(target)
    assert "hunter2" not in str(target)
    assert "hunter2" not in target.model_dump_json()
    assert "hunter2" not in target.label
    assert target.secret() == "hunter2"


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_server_that_is_down_is_a_one_line_unavailable_error(engine):
    port = free_port()
    target = DatabaseTarget(engine=engine, host="127.0.0.1", port=port, user="x",
                            dbname="apim_db", password="hunter2")
    for call in (engine_for(engine).ping, engine_for(engine).observe):
        with pytest.raises(DatabaseUnavailable) as caught:
            call(target)
        message = str(caught.value)
        assert f"127.0.0.1:{port} is not reachable" in message
        assert "check the server is running" in message
        assert "\n" not in message and "hunter2" not in message


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_targets_missing_fields_or_with_bad_names_are_refused(engine):
    with pytest.raises(DatabaseError, match="target needs 'host'"):
        engine_for(engine).ping(DatabaseTarget(engine=engine, user="u", dbname="d"))
    with pytest.raises(DatabaseError, match="database name 'a;drop' is not accepted"):
        engine_for(engine).ping(DatabaseTarget(engine=engine, host="h", user="u",
                                               dbname="a;drop"))
