"""Where the spec sits in git: commit, branch, dirty flag (gitpython, imported lazily)."""

from __future__ import annotations

from pathlib import Path

from engine.model import GitInfo


def git_info(directory: Path) -> GitInfo:
    """The commit, branch and dirty flag of the repository holding `directory`.

    Dirty means uncommitted or untracked changes under `directory` itself. Outside a
    repository everything is None/False.
    """
    try:
        import git
    except ImportError:  # pragma: no cover - gitpython is a dependency
        return GitInfo()
    try:
        repo = git.Repo(directory, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return GitInfo()
    try:
        commit = repo.head.commit.hexsha
    except ValueError:
        commit = None
    branch = None if repo.head.is_detached else repo.active_branch.name
    rel = str(Path(directory).resolve().relative_to(Path(repo.working_tree_dir).resolve()))
    paths = [] if rel == "." else [rel]
    dirty = repo.is_dirty(untracked_files=False, path=paths[0] if paths else None) or bool(
        [u for u in repo.untracked_files if not paths or u.startswith(paths[0] + "/")]
    )
    return GitInfo(commit=commit, branch=branch, dirty=dirty)
