"""Fitting text to Discord: every message within the limit (counted as Discord counts), nothing lost,
no markup or mention let through."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bots.discord.render import discord_length, escape, shorten, split_message


@given(st.text(alphabet=st.sampled_from("ab \\\n😀é*"), max_size=300), st.integers(min_value=4, max_value=40))
def test_split_messages_fit_the_limit_and_lose_nothing_but_the_line_breaks_between_them(
    text: str, limit: int
) -> None:
    messages = split_message(text, limit)

    assert all(discord_length(message) <= limit for message in messages)
    assert "".join(messages).replace("\n", "") == text.replace("\n", "")


def test_split_prefers_line_breaks_and_keeps_short_text_whole() -> None:
    assert split_message("one\ntwo\nthree", limit=8) == ["one\ntwo", "three"]
    assert split_message("short") == ["short"]


def test_an_emoji_counts_twice_as_it_does_on_discord() -> None:
    assert discord_length("😀") == 2
    assert split_message("😀" * 3, limit=4) == ["😀😀", "😀"]


def test_a_long_line_is_never_cut_just_after_an_escaping_backslash() -> None:
    escaped = escape("a" * 9 + "*b")  # "aaaaaaaaa\*b"

    first, *rest = split_message(escaped, limit=10)

    assert not first.endswith("\\")
    assert first + "".join(rest) == escaped


def test_shorten_cuts_on_one_line_with_an_ellipsis_and_no_dangling_escape() -> None:
    assert shorten("a\nb", 10) == "a b"
    assert shorten("abcdefghij", 5) == "abcd…"
    assert shorten(escape("abc*def"), 5) == "abc…"


def test_escape_neutralises_markup_and_mentions() -> None:
    assert (
        escape("**bold** @here <@123456789012345678>")
        == "\\*\\*bold\\*\\* @\u200bhere <@\u200b123456789012345678>"
    )
