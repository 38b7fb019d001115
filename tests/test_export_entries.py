"""An export's entries are made straight from the stored rows, without the record between: each
must be exactly what the record would have said, byte for byte in the file, whatever the row holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.memory.backends.payloads import export_entry, record_from_payload
from core.records import HOW

TIMES = st.sampled_from(
    [
        "2026-03-01T12:00:00+00:00",
        "2026-03-01T04:00:00-08:00",  # the same moment, written another way
        "2026-03-01T12:00:00.123456+00:00",
        "2026-03-01T12:00:00",  # no offset: read as UTC
        "2026-13-01T12:00:00+00:00",  # not a time
        "",
    ]
)
ODD = st.one_of(st.none(), st.integers(), st.booleans(), st.just(["a"]), st.just({"a": 1}))
LONG = st.sampled_from(["w" * 39, "w" * 45, "w" * 199, "w" * 250, "w" * 600])  # past each cut
TEXTS = st.one_of(st.text(max_size=20), LONG, ODD)


def _sources() -> st.SearchStrategy[Any]:
    platform = st.one_of(st.sampled_from(["slack", "discord", "p" * 60]), st.sampled_from(["", None, 3]))
    fields = {
        "channel": TEXTS,
        "at": st.one_of(TIMES, ODD),
        "how": st.one_of(st.sampled_from([*HOW, "typed ", "other"]), ODD),
        "permalink": st.one_of(
            st.sampled_from(["https://x.slack.com/archives/C1/p1", "http://no", "https://" + "a" * 600]),
            TEXTS,
        ),
        "workspace": TEXTS,
        "author": TEXTS,
    }
    return st.one_of(st.fixed_dictionaries({"platform": platform}, optional=fields), ODD)


def _payloads() -> st.SearchStrategy[dict[str, Any]]:
    fields = {
        "data": st.one_of(st.text(max_size=50), ODD),
        "created_at": st.one_of(TIMES, ODD),
        "updated_at": st.one_of(TIMES, ODD),
        "source": _sources(),
        "expires_at": st.one_of(TIMES, ODD),
        "user_id": st.just("cli:alice"),
        "hash": st.just("0" * 32),
    }
    return st.fixed_dictionaries({}, optional=fields)


@settings(max_examples=1500, deadline=None)
@given(payload=_payloads(), same_times=st.booleans())
def test_an_export_entry_is_what_the_record_of_the_row_says(
    payload: dict[str, Any], same_times: bool
) -> None:
    if same_times and "created_at" in payload:  # as most rows are: one text for all three times
        payload["updated_at"] = payload["created_at"]
        if isinstance(payload.get("source"), dict):
            payload["source"]["at"] = payload["created_at"]
    memory_id = "0b6c1d7e-8f5a-4c3b-9a2d-1e0f3c4b5a69"
    expected = record_from_payload(memory_id, payload).to_dict()
    entry = export_entry(memory_id, payload)
    assert json.dumps(entry) == json.dumps(expected)  # the same keys in the same order


def test_a_row_stored_by_cubby_exports_its_times_as_one_text() -> None:
    created = "2026-03-01T12:00:00+00:00"
    payload = {
        "data": "I prefer window seats",
        "created_at": created,
        "updated_at": created,
        "source": {"platform": "slack", "channel": "dm", "at": created, "how": "typed"},
    }
    entry = export_entry("0b6c1d7e-8f5a-4c3b-9a2d-1e0f3c4b5a69", payload)
    assert entry == {
        "id": "0b6c1d7e-8f5a-4c3b-9a2d-1e0f3c4b5a69",
        "text": "I prefer window seats",
        "created_at": created,
        "updated_at": created,
        "source": {"platform": "slack", "channel": "dm", "at": created, "how": "typed"},
    }
