"""Run the drydock CLI many times cheaply: a warm process forks one child per run.

The kill-point suite runs drydock hundreds of times; most of each run's cost would be
importing the same modules again. `Zygote` starts one Python process that imports the
CLI and the providers once, single-threaded, and then forks a fresh child per request:
the child sets its folder, environment and output files, runs the CLI's `main()` and
exits with its code. A child is a real process of its own, so SIGKILL ends it exactly as
it ends `python -m engine`; the answer is the exit status (`-9` for SIGKILL).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVER = r"""
import json, os, sys
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
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 70
        os._exit(code)
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

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str]
            ) -> subprocess.CompletedProcess[str]:
        """Run `drydock ARGS` in a fresh child; its output is captured as text."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        out, err = self._out / "stdout", self._out / "stderr"
        self._proc.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env,
                                           "stdout": str(out), "stderr": str(err)}) + "\n")
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError("the drydock zygote died; run the command directly to see why")
        code = int(json.loads(answer)["code"])
        return subprocess.CompletedProcess(["drydock", *args], code,
                                           out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def close(self) -> None:
        """End the warm process."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)
