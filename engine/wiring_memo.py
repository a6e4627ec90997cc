"""The composition root of the no-op plan memo: the one provider piece it needs.

Asking the hosts a refresh's questions again takes the local transport and nothing else
of the providers; this module reaches it without importing the provider interface that
`engine/wiring.py` builds the registry from (which would cost the shortcut its point).
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.contracts.witness import Read


def replay_host_reads(reads: Iterable[Read]) -> str | None:
    """None when every read gets the answer it got before; else what differs."""
    from providers.hosts.witness_replay import replay

    return replay(reads)
