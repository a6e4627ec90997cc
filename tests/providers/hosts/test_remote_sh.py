"""The remote shell scripts' inputs and outputs, as data: quoting, env blocks, find records."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import PurePosixPath

import pytest

from providers.hosts import remote_sh


def test_the_command_line_holds_argv_quoted_and_no_environment_value() -> None:
    line = remote_sh.run_command(["printf", "%s", "a b; rm -rf /"], PurePosixPath("/o p"),
                                 True, 5)
    words = shlex.split(line)
    assert words[:3] == ["sh", "-c", remote_sh.RUN]
    assert words[3:] == ["sh", "1", "/o p", "5.000", "printf", "%s", "a b; rm -rf /"]


def test_env_block_exports_quoted_values_and_refuses_bad_names() -> None:
    block = remote_sh.env_block({"A": "x'y\nz", "B": ""})
    size, _, body = block.partition(b"\n")
    assert int(size) == len(body)
    assert body == b"export A='x'\"'\"'y\nz'\nexport B=''\n"
    with pytest.raises(ValueError, match="not valid"):
        remote_sh.env_block({"A; rm -rf /": "x"})


def test_the_run_entry_reads_exactly_the_env_block_and_passes_the_rest_on() -> None:
    # The same script the host runs, run here with the local sh: env first, then stdin.
    words = shlex.split(remote_sh.run_command(["sh", "-c", 'printf "%s|" "$K"; cat'], None,
                                              True, 5))
    data = remote_sh.env_block({"K": "v a l"}) + b"rest of stdin"
    done = subprocess.run(words, input=data, capture_output=True, check=False)
    assert done.stdout == b"v a l|rest of stdin"


def test_find_records_parse_any_name_and_nanosecond_mtimes() -> None:
    data = (b"f 12 5 1700000000.1234567890 644 a b\nc\0"
            b"d 13 4096 1700000000.5000000000 1755 dir\0"
            b"l 14 3 1700000000 777 \xff-raw\0"
            b"p 15 0 1.0 600 fifo\0")
    found = remote_sh.parse_find(data)
    assert [n for n, _ in found] == ["a b\nc", "dir", "\udcff-raw", "fifo"]
    first = found[0][1]
    assert (first.kind, first.inode, first.size, first.mode) == ("file", 12, 5, 0o644)
    assert first.mtime_ns == 1_700_000_000_123_456_789
    assert found[1][1].mode == 0o1755 and found[2][1].kind == "link"
    assert found[3][1].kind == "other"
    with pytest.raises(ValueError):
        remote_sh.parse_find(b"garbage\0")


def test_sha256_lines_with_escaped_names() -> None:
    hexd = "a" * 64
    assert remote_sh.parse_sha256(f"\\{hexd} *odd\\nname\n") == f"sha256:{hexd}"
    with pytest.raises(ValueError):
        remote_sh.parse_sha256("sha256sum: x: No such file")


def test_the_free_space_fallback_measures_the_nearest_existing_parent(tmp_path) -> None:
    # The script SFTP servers without statvfs get, run here with the local sh and stat.
    words = shlex.split(remote_sh.command(remote_sh.FREE_BYTES, str(tmp_path / "a" / "b")))
    done = subprocess.run(words, capture_output=True, text=True, check=True)
    got = remote_sh.parse_free_bytes(done.stdout, "h", PurePosixPath(tmp_path))
    st = os.statvfs(tmp_path)
    assert abs(got - st.f_bavail * st.f_frsize) <= max(64 << 20, got // 100)
    with pytest.raises(OSError, match="^h: /x: cannot read free space from 'no'$"):
        remote_sh.parse_free_bytes("no", "h", PurePosixPath("/x"))
