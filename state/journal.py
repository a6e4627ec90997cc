"""The crash-safety journal: append-only JSON lines of run begins, intents, results and ends."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from safefs.atomicfile import PRIVATE_FILE, make_private_dirs, private_fd, write_atomic
from state.errors import StateBackendError
from state.lock import Clock, local_now

ResultStatus = Literal["ok", "failed", "skipped"]


class JournalRecord(BaseModel):
    """One line of the journal; which optional fields are set depends on `kind`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["begin", "intent", "result", "end"]
    run_id: str
    at: AwareDatetime
    plan_id: str | None = None
    action_id: str | None = None
    address: str | None = None
    type: str | None = None
    status: ResultStatus | None = None
    detail: str | None = None


class JournalIntent(BaseModel):
    """An action that announced it was about to act; unfinished if its run crashed."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    plan_id: str | None
    action_id: str
    address: str
    type: str
    at: AwareDatetime


class Journal:
    """Appends records to ``<state>.journal``: O(1) per action, fsyncs shared (group commit).

    Use it while holding the state lock: one run writes at a time. Appends from several
    threads of that run are serialised. Do not put secrets in `detail`.
    """

    def __init__(self, path: Path, fd: int, clock: Clock) -> None:
        self._path = path
        self._fd = fd
        self._clock = clock
        self._mutex = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0  # lines written by this object
        self._synced = 0  # of which known to be on disk

    @classmethod
    def open(cls, path: Path, *, clock: Clock | None = None) -> Journal:
        """Open (creating) the journal at `path` for appending.

        A torn last line left by a crash mid-write is closed off with a newline so new
        records start on their own line. Raises StateBackendError when the file cannot be
        opened.
        """
        try:
            make_private_dirs(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
            private_fd(fd)
        except OSError as err:
            raise StateBackendError(
                f"cannot open journal {path} ({err.strerror}); check the directory's permissions"
            ) from err
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                os.write(fd, b"\n")
                os.fsync(fd)
        except OSError as err:
            os.close(fd)
            raise StateBackendError(f"cannot repair journal {path} ({err.strerror})") from err
        return cls(path, fd, clock or local_now)

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    def close(self) -> None:
        """Close the journal file; later appends fail."""
        with self._mutex:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _append(self, record: JournalRecord, *, durable: bool = True) -> None:
        """Write one line; when `durable`, return only once it is on disk.

        Group commit: concurrent durable appends share one `fdatasync` (a thread finding
        its line already synced by another's call returns at once). A non-durable line
        (a result) reaches the disk with the next durable one; lost in a crash, it leaves
        its intent unfinished, and the next plan refreshes that resource instead of
        trusting the state, which is the safe side.
        """
        line = (record.model_dump_json(exclude_none=True) + "\n").encode("utf-8")
        with self._mutex:
            if self._fd < 0:
                raise StateBackendError(f"journal {self._path} is closed")
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as err:
                raise self._failed(err) from err
            self._written += 1
            seq = self._written
        if durable:
            self._sync(seq)

    def _sync(self, seq: int) -> None:
        with self._sync_lock:
            if self._synced >= seq:
                return
            with self._mutex:
                target, fd = self._written, self._fd
            try:
                os.fdatasync(fd)
            except OSError as err:
                raise self._failed(err) from err
            self._synced = target

    def _failed(self, err: OSError) -> StateBackendError:
        return StateBackendError(
            f"cannot append to journal {self._path} ({err.strerror}); stop the run")

    def begin_run(self, run_id: str, plan_id: str | None) -> None:
        """Record that run `run_id` (applying plan `plan_id`) starts."""
        self._append(JournalRecord(kind="begin", run_id=run_id, plan_id=plan_id, at=self._clock()))

    def intent(self, run_id: str, action_id: str, address: str, type: str) -> None:
        """Record that action `action_id` of type `type` is about to act on `address`."""
        self._append(
            JournalRecord(
                kind="intent",
                run_id=run_id,
                action_id=action_id,
                address=address,
                type=type,
                at=self._clock(),
            )
        )

    def result(self, run_id: str, action_id: str, status: ResultStatus, detail: str = "") -> None:
        """Record how action `action_id` ended: "ok", "failed" or "skipped", with a detail."""
        self._append(
            JournalRecord(
                kind="result",
                run_id=run_id,
                action_id=action_id,
                status=status,
                detail=detail,
                at=self._clock(),
            ),
            durable=False,
        )

    def end_run(self, run_id: str) -> None:
        """Record that run `run_id` finished (whatever its actions' results)."""
        self._append(JournalRecord(kind="end", run_id=run_id, at=self._clock()))

    def records(self) -> list[JournalRecord]:
        """Return every readable record in file order; torn or garbled lines are skipped."""
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise StateBackendError(f"cannot read journal {self._path} ({err.strerror})") from err
        records = []
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                records.append(JournalRecord.model_validate_json(line))
            except ValidationError:
                continue  # a line torn by a crash mid-write
        return records

    def unfinished(self) -> list[JournalIntent]:
        """Return intents with no result whose run never ended (a crashed run), in order."""
        return _unfinished(self.records())[0]

    def clear_finished(self) -> None:
        """Rewrite the journal atomically keeping only unfinished intents and their runs.

        Raises StateBackendError when the rewrite fails (the old journal is left intact).
        """
        with self._mutex:
            intents, begins = _unfinished(self.records())
            runs = dict.fromkeys(i.run_id for i in intents)
            kept = [begins[run] for run in runs if run in begins]
            kept += [
                JournalRecord(
                    kind="intent",
                    run_id=i.run_id,
                    action_id=i.action_id,
                    address=i.address,
                    type=i.type,
                    at=i.at,
                )
                for i in intents
            ]
            text = "".join(r.model_dump_json(exclude_none=True) + "\n" for r in kept)
            try:
                write_atomic(self._path, text.encode("utf-8"))
                fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
            except OSError as err:
                raise StateBackendError(
                    f"cannot compact journal {self._path} ({err.strerror}); it is unchanged"
                ) from err
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = fd


def _unfinished(
    records: list[JournalRecord],
) -> tuple[list[JournalIntent], dict[str, JournalRecord]]:
    begins: dict[str, JournalRecord] = {}
    ended: set[str] = set()
    open_intents: dict[tuple[str, str], JournalIntent] = {}
    for record in records:
        if record.kind == "begin":
            begins[record.run_id] = record
        elif record.kind == "end":
            ended.add(record.run_id)
        elif record.action_id is None:
            continue
        elif record.kind == "intent":
            begin = begins.get(record.run_id)
            open_intents[(record.run_id, record.action_id)] = JournalIntent(
                run_id=record.run_id,
                plan_id=begin.plan_id if begin else None,
                action_id=record.action_id,
                address=record.address or "",
                type=record.type or "",
                at=record.at,
            )
        else:
            open_intents.pop((record.run_id, record.action_id), None)
    intents = [i for i in open_intents.values() if i.run_id not in ended]
    return intents, begins
