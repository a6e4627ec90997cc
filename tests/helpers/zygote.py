"""Run the drydock CLI many times cheaply: a warm process forks one child per run.

The tests run drydock hundreds of times; most of each run's cost would be importing the
same modules again. `Zygote` starts one Python process that imports the CLI and the
providers once, single-threaded, and then forks a fresh child per request: the child sets
its folder, environment and output files, runs the CLI's `main()` and exits as
`python -m engine` would (a `SystemExit` message on stderr, 1 for an uncaught exception
with its traceback, the exit handlers run). A child is a real process of its own, so
SIGKILL ends it exactly as it ends `python -m engine`; the answer is the exit status
(`-9` for SIGKILL). `cli()` runs through one zygote per test process; a test that runs
the CLI concurrently, reads its stdin or needs a terminal starts `python -m engine`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SERVER = r"""
import atexit, json, os, sys
import engine.cli
from engine.wiring import default_providers
default_providers()  # import the providers too, once
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for fd, name in ((1, "stdout"), (2, "stderr")):
                out = os.open(req[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(out, fd)
                os.close(out)
            sys.argv = ["drydock", *req["args"]]
            code = 0
            try:
                engine.cli.main()
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 70
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print(json.dumps({"code": code}), flush=True)
"""


class Zygote:
    """A warm drydock process; `run` answers like `subprocess.run` of `python -m engine`."""

    def __init__(self, python: str = sys.executable) -> None:
        self._proc = subprocess.Popen([python, "-c", SERVER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, bufsize=1)
        self._out = Path(tempfile.mkdtemp(prefix="drydock-zygote-"))
        self._read = b""
        self.busy = threading.Lock()

    def _answer(self, timeout: float | None) -> dict | None:
        """The zygote's next line as JSON; None when `timeout` seconds pass first. Read
        straight from the pipe, so nothing waits unseen in a buffer."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._read:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("the drydock zygote died; run the command directly to see "
                                   "why")
            self._read += chunk
        line, self._read = self._read.split(b"\n", 1)
        return json.loads(line)

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str],
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run `drydock ARGS` in a fresh child; its output is captured as text. After
        `timeout` seconds the child is killed and TimeoutExpired raised, as by
        `subprocess.run`."""
        assert self._proc.stdin is not None
        out, err = self._out / "stdout", self._out / "stderr"
        self._proc.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env,
                                           "stdout": str(out), "stderr": str(err)}) + "\n")
        started = self._answer(None)
        assert started is not None
        done = self._answer(timeout)
        if done is None:
            os.kill(int(started["pid"]), signal.SIGKILL)
            self._answer(None)
            raise subprocess.TimeoutExpired(["drydock", *args], timeout or 0,
                                            out.read_text(errors="replace"),
                                            err.read_text(errors="replace"))
        return subprocess.CompletedProcess(["drydock", *args], int(done["code"]),
                                           out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def close(self) -> None:
        """End the warm process."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)


_shared: list[Zygote] = []


def cli(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    """`drydock ARGS` in a child process through this test process's zygote (started on
    first use, ended at exit); while another thread uses it, as `python -m engine`."""
    if not _shared:
        _shared.append(Zygote())
        atexit.register(_shared[0].close)
    zygote = _shared[0]
    if not zygote.busy.acquire(blocking=False):
        return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    try:
        return zygote.run(args, cwd=cwd, env=env, timeout=timeout)
    finally:
        zygote.busy.release()
