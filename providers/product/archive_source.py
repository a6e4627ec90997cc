"""Where the product layer reads a pack, update package or patch archive an action names.

An action names an archive either by its path on the controller (`params[key]`, the
spec's folders) or, in a recovery, as a replicated artifact (`params[key + "_artifact"]`:
`{repository, sha256, name}`), kept content-addressed in a surviving repository. The
latter is fetched into a private temporary folder on the controller, verified against
its sha256 and size, handed over as a path, and removed afterwards: the installer reads
the same bytes that ran, and never the folders of a lost site.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from engine.contracts.provider import ActionFailed
from engine.spec.loader import LoadedSpec


@contextmanager
def archive_path(spec: LoadedSpec, params: dict[str, Any], key: str) -> Iterator[Path]:
    """The controller path of the archive `params` names under `key` (see the module).

    Raises ActionFailed naming the artifact when it is missing from its repository or
    its bytes do not verify (nothing is installed then).
    """
    ref = params.get(f"{key}_artifact")
    if not ref:
        yield Path(params[key])
        return
    from providers.repositories.artifacts import fetched
    from providers.repositories.errors import RepositoryError
    from providers.repositories.factory import open_repository

    with ExitStack() as stack:
        try:
            path = stack.enter_context(fetched(open_repository(spec, ref["repository"]),
                                               ref["sha256"]))
        except RepositoryError as exc:
            raise ActionFailed(f"{ref.get('name', key)}: {exc}") from exc
        yield path
