"""How the retention period is worded in the answer for an expired interaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sentoffers.domain.errors import Gone
from sentoffers.server.features.retention import describe_days, interaction_expired


@pytest.mark.parametrize(
    ("days", "shown"), [(10.0, "10 days"), (1.0, "1 day"), (0.5, "0.5 days"), (30, "30 days")]
)
def test_the_retention_period_is_worded_in_days(days: float, shown: str) -> None:
    assert describe_days(days) == shown


def test_an_expired_interaction_answers_410_with_its_code_and_the_period_kept() -> None:
    error = interaction_expired("ABC", timedelta(days=10))
    assert isinstance(error, Gone)
    assert error.status_code == 410
    [problem] = error.problems
    assert (problem.code, problem.field) == ("interaction_expired", "interactionId")
    assert "'ABC'" in problem.message
    assert "kept 10 days" in problem.message
    assert "expired" in problem.message
