"""Where the demo runs: a folder given, the checkout's specs/demo, or (installed) a working
copy of the packaged demo in the current folder that keeps a machine's *.local.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.commands import demo_source


def test_a_chosen_folder_and_the_checkout(tmp_path: Path) -> None:
    assert demo_source.demo_folder(tmp_path, tmp_path / "cwd") == tmp_path
    assert demo_source.packaged_demo() is None  # running from the checkout
    found = demo_source.demo_folder(None, tmp_path)
    assert found == demo_source.checkout_demo() and (found / "environment.yaml").is_file()


def test_an_installed_demo_is_copied_and_refreshed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The packaged folder as a wheel lays it out: a package with the demo's files.
    packaged = tmp_path / "site" / "demo"
    (packaged / "templates").mkdir(parents=True)
    (packaged / "environment.yaml").write_text("environment: demo\n")
    (packaged / "templates" / "t.j2").write_text("x")
    monkeypatch.setattr(demo_source, "packaged_demo", lambda: packaged)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    copy = demo_source.demo_folder(None, cwd)
    assert copy == cwd / "drydock-demo"
    assert (copy / "templates" / "t.j2").read_text() == "x"
    (copy / "old.yaml").write_text("stale: true\n")
    (copy / "ports.local.yaml").write_text("vars: {}\n")
    demo_source.demo_folder(None, cwd)
    assert sorted(p.name for p in copy.glob("*.yaml")) == ["environment.yaml",
                                                           "ports.local.yaml"]
