"""Run database client tools with streamed stdin/stdout and stderr kept for error messages."""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: TID251
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, BinaryIO

from providers.databases.errors import DatabaseError

CHUNK = 1 << 20
_ERR_LINES = 6
_ERR_CHARS = 600


def find_tool(names: Sequence[str], *, package: str) -> str:
    """Return the path of the first of `names` on PATH; raises DatabaseError naming `package`."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise DatabaseError(f"{' / '.join(names)} not found on PATH; install {package}")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The current environment plus `extra` (e.g. a password) for one child process only."""
    env = dict(os.environ)
    env.update(extra)
    return env


def trimmed(err: IO[bytes]) -> str:
    """The last few non-empty lines of a captured stderr file, joined on one line."""
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = " | ".join(lines[-_ERR_LINES:])
    return joined[-_ERR_CHARS:] if joined else "no error output"


def _tool(argv: Sequence[str]) -> str:
    return Path(argv[0]).name


def stream_out(argv: Sequence[str], env: Mapping[str, str], sink: BinaryIO, *, what: str) -> None:
    """Run `argv` and copy its stdout into `sink` as it comes, without buffering it all.

    Raises DatabaseError (with trimmed stderr) when the tool exits non-zero; whatever
    `sink.write` raises kills the tool and propagates.
    """
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            env=dict(env),
        )
        assert proc.stdout is not None
        try:
            while chunk := proc.stdout.read(CHUNK):
                sink.write(chunk)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        code = proc.wait()
        if code != 0:
            raise DatabaseError(f"{what}: {_tool(argv)} exited with {code}: {trimmed(err)}")


def stream_in(argv: Sequence[str], env: Mapping[str, str], source: BinaryIO, *, what: str) -> None:
    """Run `argv` feeding `source` (read to its end) into its stdin.

    Raises DatabaseError (with trimmed stderr) when the tool exits non-zero or stops
    reading early; whatever `source.read` raises kills the tool and propagates.
    """
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
            env=dict(env),
        )
        assert proc.stdin is not None
        stopped_reading = False
        try:
            while chunk := source.read(CHUNK):
                try:
                    proc.stdin.write(chunk)
                except BrokenPipeError:
                    stopped_reading = True
                    break
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                stopped_reading = True
        code = proc.wait()
        if code != 0 or stopped_reading:
            raise DatabaseError(f"{what}: {_tool(argv)} exited with {code}: {trimmed(err)}")


def pipe_between(
    producer: Sequence[str], consumer: Sequence[str], env: Mapping[str, str], *, what: str
) -> None:
    """Run `producer | consumer` with argument lists; raises DatabaseError if either fails."""
    with tempfile.TemporaryFile() as err_out, tempfile.TemporaryFile() as err_in:
        first = subprocess.Popen(
            list(producer), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_out,
            env=dict(env),
        )
        assert first.stdout is not None
        second = subprocess.Popen(
            list(consumer), stdin=first.stdout, stdout=subprocess.DEVNULL, stderr=err_in,
            env=dict(env),
        )
        first.stdout.close()
        code_in = second.wait()
        code_out = first.wait()
        if code_out != 0:
            raise DatabaseError(f"{what}: {_tool(producer)} exited with {code_out}: "
                                f"{trimmed(err_out)}")
        if code_in != 0:
            raise DatabaseError(f"{what}: {_tool(consumer)} exited with {code_in}: "
                                f"{trimmed(err_in)}")
