"""The one rule for what a channel other people read may see: only the help text."""

import pytest

from core import ReplyKind, may_be_public


def test_the_help_text_may_be_shown_in_a_shared_channel() -> None:
    assert may_be_public(ReplyKind.HELP)


@pytest.mark.parametrize("kind", [ReplyKind.ABOUT_MEMORY, ReplyKind.ERROR])
def test_every_reply_about_a_persons_memory_or_request_is_private(kind: ReplyKind) -> None:
    assert not may_be_public(kind)


def test_every_kind_of_reply_has_an_answer() -> None:
    assert {kind: may_be_public(kind) for kind in ReplyKind} == {
        ReplyKind.HELP: True,
        ReplyKind.ABOUT_MEMORY: False,
        ReplyKind.ERROR: False,
    }
