"""Fuzzing the zip readers with damaged real packs, update packages and patch archives:
every input ends in ArchiveError (one line) or a clean result, never another exception,
and nothing is ever written outside the destination."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.product.archive import ArchiveError, extract_zip, inspect_zip, read_member
from testkit.builder import build_pack, build_patch, build_updates
from tests.helpers.fuzz import fuzz

EXAMPLES = 150


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("seeds")
    update = build_updates(out, levels=[1])[0]
    patch = build_patch(out)
    pack = build_pack(out)
    return {"update": update.read_bytes(), "patch": patch.read_bytes(),
            "pack": pack.read_bytes()}


mutation = st.tuples(
    st.sampled_from(["update", "patch", "pack"]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    st.one_of(st.none(), st.floats(0, 1)),  # truncate at this fraction
    st.binary(max_size=64),                 # appended or spliced bytes
    st.booleans(),                          # splice in front instead of appending
)


def damaged(seeds: dict[str, bytes], case: tuple) -> bytes:
    kind, flips, cut, extra, front = case
    data = bytearray(seeds[kind])
    for where, value in flips:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    return bytes(extra + data) if front else bytes(data + extra)


def one_line(exc: BaseException) -> None:
    assert "\n" not in str(exc) and str(exc)


@fuzz(EXAMPLES)
@given(case=mutation)
def test_damaged_archives_end_in_one_archive_error_or_a_clean_read(seeds, case):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        archive = root / "in.zip"
        archive.write_bytes(damaged(seeds, case))
        for read in (lambda: inspect_zip(archive),
                     lambda: read_member(archive, "WSO2-CARBON-UPDATE-4.9.0-0001/"
                                                  "update-descriptor3.yaml"),
                     lambda: extract_zip(archive, root / "out" / "dest")):
            try:
                read()
            except ArchiveError as exc:
                one_line(exc)
        if (root / "out").exists():
            leftovers = {p.name for p in (root / "out").iterdir()}
            assert leftovers <= {"dest"}  # no staging left beside it
        shutil.rmtree(root / "out", ignore_errors=True)


def test_a_real_deflate_bomb_is_refused_before_it_fills_a_small_disk(tmp_path):
    import zipfile

    from tests.helpers.faults import small_disk

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("top/zeros.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(64):
                member.write(block)
    assert bomb.stat().st_size < 1 << 20
    with small_disk(tmp_path / "disk", "8m") as disk:
        with pytest.raises(ArchiveError) as caught:
            extract_zip(bomb, disk / "home", strip="top")
        assert "needs 67108864 bytes" in str(caught.value) and "\n" not in str(caught.value)
        assert list(disk.iterdir()) == []
