"""Where `drydock demo` runs: the checkout's `specs/demo`, or, from an installed wheel, a
working copy of the packaged demo (`drydock/demo`) in the current folder.

An installed package is never written to: the demo builds its world beside its spec, so
an installed demo is copied to `./drydock-demo/` first (its spec files refreshed on every
run, the world rebuilt anyway).
"""

from __future__ import annotations

import shutil
from pathlib import Path

WORKING_COPY = "drydock-demo"
_SKIP = shutil.ignore_patterns(".drydock", "*.local.yaml", "__pycache__", "__init__.py")


def packaged_demo() -> Path | None:
    """The demo spec shipped in the wheel (`drydock/demo`), or None in a checkout."""
    import drydock

    folder = Path(drydock.__file__).resolve().parent / "demo"
    return folder if (folder / "environment.yaml").is_file() else None


def checkout_demo() -> Path:
    """The checkout's `specs/demo` (where `make demo` runs it)."""
    return Path(__file__).resolve().parents[2] / "specs" / "demo"


def demo_folder(chosen: Path | None, cwd: Path) -> Path:
    """The folder the demo runs in: `chosen`, the checkout's demo, or a fresh working copy
    of the packaged demo under `cwd`. Raises FileNotFoundError when there is no demo."""
    if chosen is not None:
        return chosen
    packaged = packaged_demo()
    if packaged is None:
        found = checkout_demo()
        if not (found / "environment.yaml").is_file():
            raise FileNotFoundError(f"no demo environment at {found}")
        return found
    target = cwd / WORKING_COPY
    for stale in target.glob("*.y*ml") if target.is_dir() else ():
        if not stale.name.endswith(".local.yaml"):
            stale.unlink()
    shutil.copytree(packaged, target, ignore=_SKIP, dirs_exist_ok=True)
    return target
