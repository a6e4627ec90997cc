"""Who holds a state lock: the record written into every lock (local file or S3 object)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class LockInfo(BaseModel):
    """Who holds a state lock: written into the lock so a refused run can name the holder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    pid: int
    host: str
    user: str
    operation: str
    created: AwareDatetime
    path: str

    def to_json(self) -> bytes:
        """Return the record as compact JSON bytes."""
        return self.model_dump_json().encode("utf-8")
