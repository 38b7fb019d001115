"""Answering an interaction: always ephemeral, never pinging, deferred only when the work is slow.

Discord drops an interaction that is not acknowledged within 3 seconds. Most of Cubby's work takes
milliseconds, so it answers directly; when the work is still running after ``defer_after`` seconds
(a busy memory thread under load, a large export) it defers first and follows up when the work is done.
The default is short so that the person sees Cubby react at once even when it is busy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import discord

from bots.discord.lifecycle import tracked
from bots.discord.render import NO_MENTIONS, Reply, attachment, split_message
from core import CubbyError, replies

log = logging.getLogger(__name__)

Work = Coroutine[Any, Any, Reply]


@dataclass(frozen=True, slots=True)
class Timing:
    """``defer_after``: seconds of work before deferring (Discord allows 3 in all, network included).
    ``question_timeout``: how long /forget's buttons stay live (interaction tokens last 15 minutes)."""

    defer_after: float = 0.05
    question_timeout: float = 120.0


async def _finish(interaction: discord.Interaction, work: Work, *, defer_after: float, update: bool) -> Reply:
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=defer_after)
    if not done:
        # Type 5 ("thinking", ephemeral) for a new answer; type 6 to update the message a button is on.
        try:
            await interaction.response.defer(ephemeral=True, thinking=not update)
        except discord.HTTPException:
            await asyncio.gather(task, return_exceptions=True)  # finish the work; no one can be told
            raise
    try:
        return await task
    except CubbyError as error:
        return Reply(replies.describe_error(error))


async def answer(interaction: discord.Interaction, work: Work, *, defer_after: float) -> None:
    """Run ``work`` and show its reply to the person who interacted, and only to them."""
    async with tracked(interaction.client):
        await send(interaction, await _finish(interaction, work, defer_after=defer_after, update=False))


async def update(interaction: discord.Interaction, work: Work, *, defer_after: float) -> None:
    """Run ``work`` (a button or menu choice) and replace the message it was on with the reply."""
    async with tracked(interaction.client):
        reply = await _finish(interaction, work, defer_after=defer_after, update=True)
        text = split_message(reply.text)[0]
        if interaction.response.is_done():
            await interaction.edit_original_response(
                content=text, view=reply.view, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.response.edit_message(
                content=text, view=reply.view, allowed_mentions=NO_MENTIONS
            )


async def send(interaction: discord.Interaction, reply: Reply) -> None:
    """Send ``reply`` ephemerally: as the response if there is none yet, else as followups. Long text
    goes out as several messages; a file or buttons ride on the first."""
    extras: dict[str, Any] = {}
    if reply.file is not None:
        extras["file"] = attachment(reply.file)
    if reply.view is not None:
        extras["view"] = reply.view
    for index, text in enumerate(split_message(reply.text)):
        options = {"ephemeral": True, "allowed_mentions": NO_MENTIONS, **(extras if index == 0 else {})}
        if index == 0 and not interaction.response.is_done():
            await interaction.response.send_message(text, **options)
        else:
            await interaction.followup.send(text, **options)


async def apologise(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the person, briefly and privately, that their request failed. Never raises."""
    try:
        await send(interaction, Reply(replies.describe_error(error)))
    except Exception as failure:  # the connection may be gone too; there is no one left to tell
        log.warning("could not send an apology: %s", type(failure).__name__)
