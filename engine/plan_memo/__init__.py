"""The no-op plan memo: a plan that found nothing to do, and what it rested on.

Most plans find nothing to do (the nightly run, a pull request that touches no server),
and such a plan's answer is decided by three things: the spec's bytes, the recorded state,
and what the refresh read on the hosts. After a full plan finds no change, drydock keeps
all three beside the plan's rendered output: the spec digest (and the template names),
the stamps of the state, journal and code files, and every read the refresh made through
the host transports with a digest of its answer (`engine/contracts/witness.py`). The next
`drydock plan` with the same options re-reads the spec bytes, re-stats those files and
asks the hosts the same questions; when every answer is the same, the plan is the same,
and it is printed (with a new id and time) without loading the spec models, the
providers or the planners. Any difference, or anything unreadable, and the full plan runs.

A memo is kept only when nothing else could change the answer (`capture.py`): servers
only, on this machine's hosts, a local state backend, no secrets resolved, no clock
override, nothing the refresh read changed within two seconds of it. It lives in the
user's cache folder, never in the spec folder, so a pull request cannot bring one.
"""
