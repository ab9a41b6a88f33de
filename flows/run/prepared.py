"""A run's settings handed to the Prefect flow inside this process rather than as its parameters.

Prefect keeps a flow run's parameters: in its database, in its UI, in the flow run's name. With
`--redact` the input paths must not be among them, since an export's file or folder name may
carry a patient's name or id (a per-patient export, "claims-smith-john.csv"). So the command
line checks the options into RunSettings, keeps them here under a random token and calls the
flow with the token and the options that name no input; the flow takes the settings back, once.
"""

from __future__ import annotations

import secrets
import threading

from flows.run.settings import RunSettings
from schemas.errors import InputError

_PREPARED: dict[str, RunSettings] = {}
_LOCK = threading.Lock()


def prepare(s: RunSettings) -> str:
    """Keep `s` for one flow run of this process; the token to pass as its `prepared`."""
    token = secrets.token_hex(16)
    with _LOCK:
        _PREPARED[token] = s
    return token


def take(token: str) -> RunSettings:
    """The settings kept under `token`, removed: a token works once, in the process that made
    it (a deployment's run, in another process, passes its paths as parameters instead)."""
    with _LOCK:
        s = _PREPARED.pop(token, None)
    if s is None:
        raise InputError(
            "the flow's `prepared` settings are not in this process: give the exports' paths"
        )
    return s
