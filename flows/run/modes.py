"""Which mode a `therapy-audit run` takes, decided without importing Prefect.

- **direct** (default): no Prefect API configured. The stages run on this machine, on threads of
  the one process (flows/run/direct.py); Prefect is never imported, so nothing starts and the
  14-20 s of Prefect's temporary server are never paid.
- **prefect**: a Prefect API is configured (PREFECT_API_URL in the environment, or in the active
  Prefect profile), or `--orchestrate` is given. The same stages run as the Prefect flow
  (flows/run/prefect_flow.py) against that server, which records the run, its tasks, logs and
  artifacts; `--orchestrate` with no API configured starts Prefect's temporary local server.

Importing prefect to read its settings costs ~2.5 s, so the profile file is read here with
tomllib the way Prefect reads it: PREFECT_PROFILES_PATH, else PREFECT_HOME/profiles.toml (home
default ~/.prefect); the profile named by PREFECT_PROFILE, else the file's `active` one.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

API_URL = "PREFECT_API_URL"


def _profiles_path(env: Mapping[str, str]) -> Path:
    if env.get("PREFECT_PROFILES_PATH"):
        return Path(env["PREFECT_PROFILES_PATH"]).expanduser()
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    return home / "profiles.toml"


def prefect_api_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured Prefect API URL, or None (then a run is direct)."""
    env = os.environ if environ is None else environ
    if env.get(API_URL, "").strip():
        return env[API_URL].strip()
    path = _profiles_path(env)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # no readable profile file: Prefect's own default has no API URL either
    name = env.get("PREFECT_PROFILE") or data.get("active")
    profiles = data.get("profiles")
    profile = profiles.get(name) if isinstance(profiles, dict) and name else None
    url = profile.get(API_URL) if isinstance(profile, dict) else None
    return str(url).strip() or None if url else None


def use_prefect(orchestrate: bool, environ: Mapping[str, str] | None = None) -> bool:
    return orchestrate or prefect_api_url(environ) is not None


def keep_prefect_local(environ: dict[str, str] | None = None) -> None:
    """Before Prefect is imported: no anonymous usage data from a temporary Prefect server (the
    README promises that nothing leaves the machine). An explicit setting of the user wins."""
    env = os.environ if environ is None else environ
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
