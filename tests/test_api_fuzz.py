"""Hostile input to the API: whatever the body, a 2xx or a 4xx in the one error shape, never a 500."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limber.practice.models import PracticeSession
from tests.conftest import no_rate_limits

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

FIELDS = ["id", "started_at", "finished_at", "pain_before", "pain_after", "pain_spread", "holds"]
HOLD_FIELDS = [
    "id",
    "exercise",
    "variant",
    "side",
    "rep",
    "target_s",
    "held_s",
    "stretch_felt",
    "pain",
    "too_strong",
]


def valid_session():
    return {
        "id": str(uuid.uuid4()),
        "started_at": "2026-11-24T08:00:00Z",
        "finished_at": "2026-11-24T08:09:30Z",
        "pain_before": 4,
        "pain_after": 3,
        "pain_spread": False,
        "holds": [
            {
                "id": str(uuid.uuid4()),
                "exercise": "wall-hamstring-stretch",
                "variant": "at-the-wall",
                "side": "right",
                "rep": 1,
                "target_s": 10,
                "held_s": 9.5,
                "stretch_felt": True,
                "pain": 2,
            }
        ],
    }


def check(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}
        assert body["error"]["status"] == response.status_code
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_a_session_field(api, alice, field, value):
    body = valid_session()
    body[field] = value
    check(api.post("/sessions", body, user=alice))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(HOLD_FIELDS), value=json_values)
def test_any_value_in_a_hold_field(api, alice, field, value):
    body = valid_session()
    body["holds"][0][field] = value
    response = api.post("/sessions", body, user=alice)
    check(response)
    if response.status_code >= 400:
        assert not PracticeSession.objects.filter(pk=body["id"]).exists()  # no partial write


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_a_body(api, alice, raw):
    check(api.post("/sessions", raw, user=alice, raw=True))
    check(api.post("/screening", raw, user=alice, raw=True))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answers=json_values)
def test_any_screening_answers(api, alice, answers):
    check(api.post("/screening", {"answers": answers}, user=alice))
    check(api.post("/screening", answers, user=alice))


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "100000", "1e3", ""])
def test_history_limit_is_checked(api, alice, limit):
    response = api.get(f"/history?limit={limit}", user=alice)
    assert response.status_code == 422
    check(response)
    assert json.loads(response.content)["error"]["field"] == "limit"


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moment=st.datetimes(), offset=offsets, field=st.sampled_from(["started_at", "finished_at"]))
def test_any_date_with_any_offset_is_stored_or_refused_by_name(
    api, alice, monkeypatch, moment, offset, field
):
    """Years 1 to 9999 with offsets up to a day: the edges overflow UTC, and must not 500."""
    from limber.practice import quotas

    # One user writing hundreds of sessions a minute: no person does, so lift the limits.
    no_rate_limits(monkeypatch)
    monkeypatch.setattr(quotas, "SESSIONS_PER_DAY", 10_000)
    body = valid_session()
    body[field] = moment.isoformat() + offset
    response = api.post("/sessions", body, user=alice)
    check(response)
    if response.status_code == 422:
        assert json.loads(response.content)["error"]["field"] in ("started_at", "finished_at")
    else:
        assert response.status_code == 201
