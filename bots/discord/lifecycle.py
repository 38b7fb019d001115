"""Whether Cubby's Discord bot still takes work, and the work it has taken, for
:mod:`bots.shutdown`'s one shutdown path: a signal -> stop taking work -> drain -> close.

Once the bot has stopped taking work, an interaction gets a short private notice to try again, and a
message is left unanswered.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

import discord

from bots.discord.render import NO_MENTIONS
from bots.shutdown import InFlight

log = logging.getLogger(__name__)

SHUTTING_DOWN = "Cubby is restarting, so nothing was done. Please try again in a minute."


class Lifecycle:
    def __init__(self) -> None:
        self.accepting = True
        self.work = InFlight()


@runtime_checkable
class HasLifecycle(Protocol):
    lifecycle: Lifecycle


def lifecycle_of(client: object) -> Lifecycle | None:
    """The lifecycle of Cubby's bot; None for any other client (nothing to track then)."""
    return client.lifecycle if isinstance(client, HasLifecycle) else None


def accepting(client: object) -> bool:
    lifecycle = lifecycle_of(client)
    return lifecycle is None or lifecycle.accepting


async def admit(interaction: discord.Interaction) -> bool:
    """True if the bot still takes work; otherwise the person is told, privately, to retry."""
    if accepting(interaction.client):
        return True
    try:
        await interaction.response.send_message(SHUTTING_DOWN, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as error:
        log.warning("could not turn an interaction away during shutdown: %s", type(error).__name__)
    return False


@contextlib.asynccontextmanager
async def tracked(client: object) -> AsyncIterator[None]:
    """Count the work inside the block as in flight, so shutdown waits for it."""
    lifecycle = lifecycle_of(client)
    if lifecycle is None:
        yield
        return
    async with lifecycle.work.running():
        yield
