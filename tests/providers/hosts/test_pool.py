"""The host pool: one transport per spec host, made on first use, shared by threads, closed
at the end of a run; a host found unreachable fails fast for the rest of the run."""

from __future__ import annotations

import threading
from pathlib import Path, PurePosixPath

import pytest

from engine.contracts.provider import Registry
from engine.spec.infra import Host
from engine.spec.loader import LoadedSpec, load_spec
from providers.hosts.base import HostError, HostUnreachable, Transport
from providers.hosts.local import LocalTransport
from providers.hosts.pool import CONTROLLER, HostPool

SPEC = """\
environment: t
sites: {a: {}}
hosts:
  node-a: {site: a, transport: local, root: ra}
  node-b: {site: a, transport: local, root: rb}
"""


@pytest.fixture
def spec(tmp_path: Path) -> LoadedSpec:
    (tmp_path / "env.yaml").write_text(SPEC)
    return load_spec(tmp_path)


class Counting:
    """A real transport factory that counts the transports it makes."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.closed: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, host: Host, spec_dir: Path) -> Transport:
        with self._lock:
            self.made.append(name)
        factory = self

        class Closing(LocalTransport):
            def close(self) -> None:
                factory.closed.append(self.host)

        return Closing(name)


def test_each_host_gets_one_transport_reused_by_every_caller(spec: LoadedSpec) -> None:
    factory = Counting()
    pool = HostPool(factory)
    assert factory.made == []  # nothing is opened before it is needed
    seen: list[Transport] = []
    barrier = threading.Barrier(8)

    def grab(host: str) -> None:
        barrier.wait()
        seen.append(pool.get(spec, host))

    threads = [threading.Thread(target=grab, args=("node-a" if i % 2 else "node-b",))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(factory.made) == ["node-a", "node-b"]
    assert len({id(t) for t in seen}) == 2
    assert {t.host for t in seen} == {"node-a", "node-b"}
    assert pool.hosts() == ["node-a", "node-b"]


def test_close_releases_every_transport_and_a_later_get_opens_a_new_one(
        spec: LoadedSpec) -> None:
    factory = Counting()
    pool = HostPool(factory)
    first = pool.get(spec, "node-a")
    pool.get(spec, "node-b")
    pool.close()
    assert sorted(factory.closed) == ["node-a", "node-b"] and pool.hosts() == []
    assert pool.get(spec, "node-a") is not first
    assert factory.made.count("node-a") == 2


def test_an_undeclared_host_is_an_error_naming_it(spec: LoadedSpec) -> None:
    with pytest.raises(HostError, match="host 'node-z' is not declared"):
        HostPool().get(spec, "node-z")


def test_no_host_means_the_controller(spec: LoadedSpec, tmp_path: Path) -> None:
    controller = HostPool().get(spec, None)
    assert controller.host == CONTROLLER
    assert controller.stat(PurePosixPath(tmp_path / "env.yaml")) is not None


class GoesSilent(LocalTransport):
    """Mock, because this machine cannot be made unreachable to itself: the first `stat`
    times out as a silent ssh host does (the ssh suite times out a real one)."""

    calls = 0

    def stat(self, path: PurePosixPath):  # noqa: ANN201
        GoesSilent.calls += 1
        raise HostUnreachable(f"{self.host}: no answer within 10s")


def test_a_host_found_unreachable_fails_at_once_for_the_rest_of_the_run(
        spec: LoadedSpec, tmp_path: Path) -> None:
    pool = HostPool(lambda name, host, spec_dir: GoesSilent(name) if name == "node-b"
                    else LocalTransport(name))
    silent = pool.get(spec, "node-b")
    for _ in range(3):
        with pytest.raises(HostUnreachable, match="^node-b: no answer within 10s$"):
            silent.stat(PurePosixPath("/"))
    with pytest.raises(HostUnreachable, match="node-b"):
        silent.run(["true"])
    assert GoesSilent.calls == 1  # later calls did not wait for the timeout again
    assert pool.get(spec, "node-a").stat(PurePosixPath(tmp_path)) is not None
    pool.close()  # a new run tries the host again
    with pytest.raises(HostUnreachable):
        pool.get(spec, "node-b").stat(PurePosixPath("/"))
    assert GoesSilent.calls == 2


def test_every_host_provider_shares_the_registrys_pool_and_closing_the_run_closes_it(
        spec: LoadedSpec) -> None:
    from engine.wiring import default_providers

    factory = Counting()
    pool = HostPool(factory)
    providers = default_providers(pool)
    sharing = [p for p in providers if getattr(p, "hosts", None) is pool]
    assert {type(p).__name__ for p in sharing} == {
        "CarbonProvider", "BackupProvider", "DrillProvider", "RestoreProvider",
        "Ec2Provider", "SiteDrillProvider"}  # Ec2Provider tells the pool what it launched
    pool.get(spec, "node-a")
    Registry(providers).close()
    assert factory.closed == ["node-a"] and pool.hosts() == []
