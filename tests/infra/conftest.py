"""Fixtures shared by the stack tests."""

import pytest

from infra import deploy
from tests.infra import moto_shims


@pytest.fixture
def infra(aws, monkeypatch):
    """The moto server with the stage-stack shims, polled without delay."""
    moto_shims.install()
    monkeypatch.setattr(deploy, "POLL_SECONDS", 0)
    monkeypatch.delenv("ALLOW_REPLACE", raising=False)
    monkeypatch.delenv("INFRA_OUTPUTS", raising=False)
    return aws
