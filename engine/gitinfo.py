"""Where the spec sits in git: commit, branch, uncommitted files, and the spec at a base ref.

gitpython is imported lazily. Only this module reads git; comparing specs is the pure
`engine.specdiff`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from engine.contracts.models import Frozen, GitInfo
from engine.plan_memo.git_status import may_be_in_repo
from engine.specdiff import FileChange, SpecDiff, compare_specs

if TYPE_CHECKING:
    from engine.spec.models import Environment

SPEC_SUFFIXES = (".yaml", ".yml")
SHOWN_DIRTY = 5
_SYMLINK_MODE = 0o120000


class GitError(ValueError):
    """Git cannot answer: unknown ref, no common history, spec folder outside a repository."""


class DirtySpecError(ValueError):
    """The spec folder has uncommitted changes and the command refuses to use it."""


class SpecStatus(Frozen):
    """The git position of a spec folder; `dirty_files` are relative to the repository root.

    Dirty means a tracked file under the folder is modified, staged, deleted or renamed, or
    an untracked file under it is not ignored by .gitignore.
    """

    in_repo: bool = False
    root: str | None = None
    commit: str | None = None
    branch: str | None = None
    dirty_files: tuple[str, ...] = ()

    @property
    def dirty(self) -> bool:
        """True when anything under the spec folder is uncommitted."""
        return bool(self.dirty_files)

    def git_info(self) -> GitInfo:
        """The commit/branch/dirty triple a plan records."""
        return GitInfo(commit=self.commit, branch=self.branch, dirty=self.dirty)


class BaseSpec(Frozen):
    """The spec folder as it was at the merge-base of HEAD with a ref.

    `sources` maps display names (`REF:path`) to the text of the folder's top-level YAML
    files; `files` lists the other files of the folder that changed since then.
    """

    ref: str
    commit: str
    exists: bool
    sources: dict[str, str]
    files: tuple[FileChange, ...] = ()


def _open_repo(directory: Path) -> tuple[Any, str] | None:
    """The repository holding `directory` and the folder's path inside it, or None."""
    if not may_be_in_repo(Path(directory)):
        return None  # no `.git` above it: no need to import gitpython at all
    try:
        import git
    except ImportError:  # gitpython refuses to import when no git executable exists
        return None
    try:
        repo = git.Repo(directory, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    root = Path(repo.working_tree_dir).resolve()
    try:
        rel = Path(directory).resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    return repo, rel


def _pathspec(rel: str) -> str:
    return ":(literal)" + rel if rel != "." else "."


def _parse_porcelain(text: str) -> list[str]:
    """Paths from `git status --porcelain=v1 -z` (a rename lists its new path)."""
    fields = text.split("\0")
    out: list[str] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        out.append(entry[3:])
        if entry[0] in "RC":
            i += 1  # the rename's source path follows
    return out


def spec_status(directory: Path) -> SpecStatus:
    """Commit, branch and uncommitted files of the repository around `directory`.

    Outside a repository, `in_repo` is False and everything else empty. A detached HEAD
    has no branch; a repository without commits has no commit (and its files are all
    untracked, so dirty). Raises GitError when git itself fails.
    """
    opened = _open_repo(directory)
    if opened is None:
        return SpecStatus()
    repo, rel = opened
    import git

    try:
        commit = repo.head.commit.hexsha if repo.head.is_valid() else None
        branch = None if repo.head.is_detached else repo.active_branch.name
        raw = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--",
                              _pathspec(rel))
    except git.GitCommandError as exc:
        raise GitError(f"{directory}: git status failed: {_first_line(exc.stderr)}") from exc
    return SpecStatus(in_repo=True, root=str(repo.working_tree_dir), commit=commit,
                      branch=branch, dirty_files=tuple(sorted(set(_parse_porcelain(raw)))))


def git_info(directory: Path) -> GitInfo:
    """The commit, branch and dirty flag a plan records for the spec in `directory`.

    Never raises: when git cannot answer, the plan records nothing.
    """
    try:
        return spec_status(directory).git_info()
    except GitError:
        return GitInfo()


def recorded_git(planned: GitInfo, directory: Path) -> GitInfo:
    """What the state records for applying a saved plan: the checkout apply runs in.

    Apply verifies that the spec there is the one planned (same digest), so its commit is
    the truthful one, e.g. the merge commit rather than a pull request's test merge. Falls
    back to `planned` outside git.
    """
    here = git_info(directory)
    return here if here.commit else planned


def dirty_message(where: str, status: SpecStatus) -> str:
    """One line naming at most five dirty files and what to do about them."""
    files = list(status.dirty_files)
    shown = ", ".join(files[:SHOWN_DIRTY])
    more = f" and {len(files) - SHOWN_DIRTY} more" if len(files) > SHOWN_DIRTY else ""
    return (f"{where} has uncommitted changes ({shown}{more}); commit them (generated files "
            "such as .drydock/ belong in .gitignore), or pass --allow-dirty to apply anyway")


def require_committed(directory: Path, *, allow_dirty: bool) -> str | None:
    """Check that the spec in `directory` is committed before it is applied.

    Returns a warning to print when the folder is not in git (or dirty but allowed), None
    when all is well. Raises DirtySpecError naming the files when the folder is dirty and
    `allow_dirty` is False; GitError when git fails.
    """
    status = spec_status(directory)
    if not status.in_repo:
        return (f"warning: {_display(directory)} is not in a git repository; the state will record "
                "no commit for this apply")
    if not status.dirty:
        return None
    if not allow_dirty:
        raise DirtySpecError(dirty_message(_display(directory), status))
    return f"warning: applying uncommitted specs ({len(status.dirty_files)} file(s)) as asked"


def _display(directory: Path) -> str:
    """The folder relative to the current directory when it is below it."""
    try:
        return str(Path(directory).resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(directory)


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0].removeprefix("stderr: ").strip("'") if lines else "unknown error"


def _merge_base(repo: Any, ref: str) -> str:
    import git

    try:
        other = repo.commit(ref)
    except (git.BadName, git.BadObject, ValueError) as exc:
        raise GitError(f"unknown git ref {ref!r}; fetch it first (e.g. git fetch origin main; "
                       "CI checkouts need full history, fetch-depth: 0)") from exc
    if not repo.head.is_valid():
        raise GitError(f"no commits yet; commit the spec before comparing it with {ref}")
    bases = repo.merge_base(other, repo.head.commit)
    if not bases:
        raise GitError(f"HEAD and {ref} have no common history; fetch the full history "
                       "(fetch-depth: 0) and check the ref")
    return bases[0].hexsha


def _changed_files(repo: Any, base: str, rel: str) -> tuple[FileChange, ...]:
    """Files under the folder, other than its top-level YAML, changed since `base`."""
    spec = _pathspec(rel)
    raw = repo.git.diff("--name-status", "-z", "--no-renames", base, "--", spec)
    fields = [f for f in raw.split("\0") if f]
    found: dict[str, str] = {}
    for code, path in zip(fields[0::2], fields[1::2], strict=False):
        found[path] = {"A": "added", "D": "removed"}.get(code[:1], "changed")
    untracked = repo.git.ls_files("--others", "--exclude-standard", "-z", "--", spec)
    for path in filter(None, untracked.split("\0")):
        found[path] = "added"
    out = []
    for path, status in sorted(found.items()):
        inner = PurePosixPath(path) if rel == "." else PurePosixPath(path).relative_to(rel)
        if len(inner.parts) == 1 and inner.suffix in SPEC_SUFFIXES:
            continue
        out.append(FileChange(path=inner.as_posix(), status=status))
    return tuple(out)


def read_base_spec(directory: Path, ref: str) -> BaseSpec:
    """The spec folder's YAML at the merge-base of HEAD and `ref`, read from git objects.

    Nothing is checked out. A folder that did not exist at the base gives `exists=False`
    and no sources. Raises GitError when the folder is not in git, the ref is unknown or
    HEAD and the ref share no history.
    """
    opened = _open_repo(directory)
    if opened is None:
        raise GitError(f"{directory} is not in a git repository; --base needs the spec in git")
    repo, rel = opened
    import git

    try:
        base = _merge_base(repo, ref)
        tree = repo.commit(base).tree
        try:
            folder = tree if rel == "." else tree / rel
        except KeyError:
            folder = None
        sources: dict[str, str] = {}
        if folder is not None and folder.type == "tree":
            for blob in sorted(folder.blobs, key=lambda b: b.name):
                if blob.name.endswith(SPEC_SUFFIXES) and blob.mode != _SYMLINK_MODE:
                    text = blob.data_stream.read().decode("utf-8", errors="replace")
                    sources[f"{ref}:{blob.path}"] = text
        files = _changed_files(repo, base, rel)
    except git.GitCommandError as exc:
        raise GitError(f"{directory}: git failed reading {ref}: {_first_line(exc.stderr)}") \
            from exc
    exists = folder is not None and folder.type == "tree"
    return BaseSpec(ref=ref, commit=base, exists=exists, sources=sources, files=files)


def spec_diff_against(directory: Path, current: Environment, ref: str) -> SpecDiff:
    """What the spec in `directory` (as on disk) changes relative to its merge-base with `ref`.

    A base spec that no longer parses is reported in `base_error` and compared as empty.
    Raises GitError like `read_base_spec`.
    """
    from engine.spec.errors import SpecError
    from engine.spec.parse import SourceFile, parse_environment

    base = read_base_spec(directory, ref)
    before: Environment | None = None
    error: str | None = None
    if base.sources:
        try:
            before = parse_environment([SourceFile(n, t) for n, t in base.sources.items()])
        except SpecError as exc:
            first = exc.issues[0] if exc.issues else None
            error = str(first) if first is not None else "the spec did not parse"
    elif base.exists:
        error = "the folder had no YAML files"
    return compare_specs(before, current, base_ref=ref, base_commit=base.commit,
                         files=base.files, base_error=error)
