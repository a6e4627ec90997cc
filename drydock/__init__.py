"""drydock: plan and apply WSO2-style middleware estates (`python -m drydock`).

The code lives in the engine, providers, state, safefs and testkit packages; this one
names the distribution's command and carries the demo environment as package data
(`drydock/demo`, mapped from the checkout's `specs/demo` when the wheel is built).
"""

from engine import __version__

__all__ = ["__version__"]
