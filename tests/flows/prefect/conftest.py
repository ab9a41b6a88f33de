"""One Prefect test server for every flow test (starting one takes ~18 s): keep all tests that
run the Prefect flow in this folder, under this session-scoped fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    # before Prefect is imported: no usage data from the test server (nothing leaves the box)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
