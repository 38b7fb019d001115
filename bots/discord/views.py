"""The buttons and menu behind ``/forget``.

Only the person who ran ``/forget`` can use them, and what they erase is always looked up in the
memory of the person who pressed - the custom ids carry nothing but a random nonce.
"""

from __future__ import annotations

import functools
import logging
import secrets

import discord

from bots.discord import cleanup, respond
from bots.discord.boundary import contain
from bots.discord.identity import memory_of
from bots.discord.lifecycle import admit
from bots.discord.render import NO_MENTIONS, Reply, escape, shorten
from core import ForgetPlan, Hub, replies

log = logging.getLogger(__name__)

NOT_YOURS = "Only the person who asked can use these buttons."
EXPIRED = "Nothing was forgotten: that question expired. Run /forget again if you still want to."
OPTION_LABEL_LIMIT = 100


class OwnerOnlyView(discord.ui.View):
    """A view for one person. Anyone else who presses gets a private "not yours"; when it times out
    its message says so and loses its buttons."""

    def __init__(self, hub: Hub, origin: discord.Interaction, timing: respond.Timing) -> None:
        super().__init__(timeout=timing.question_timeout)
        self.hub = hub
        self.owner_id = origin.user.id
        self.origin = origin
        self.defer_after = timing.defer_after
        self.nonce = secrets.token_hex(8)

    def custom_id(self, action: str) -> str:
        return f"cubby:forget:{action}:{self.nonce}"

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return await admit(interaction)
        log.info("refused a /forget button pressed by someone other than its owner")
        await interaction.response.send_message(NOT_YOURS, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return False

    async def on_timeout(self) -> None:
        try:
            await self.origin.edit_original_response(content=EXPIRED, view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            log.warning("could not close an expired /forget question: %s", type(error).__name__)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        await contain("a /forget button", error, functools.partial(respond.apologise, interaction))

    async def cancelled(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=replies.FORGET_CANCELLED, view=None, allowed_mentions=NO_MENTIONS
        )


class ForgetConfirmView(OwnerOnlyView):
    """Danger and cancel buttons under "Forget everything?" or "Forget this memory?"."""

    def __init__(
        self, hub: Hub, plan: ForgetPlan, origin: discord.Interaction, timing: respond.Timing
    ) -> None:
        super().__init__(hub, origin, timing)
        self.plan = plan
        self.confirm.custom_id = self.custom_id("confirm")
        self.cancel.custom_id = self.custom_id("cancel")

    @discord.ui.button(label="Forget", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        memory = memory_of(self.hub, interaction.user)

        async def forget() -> Reply:
            target = None if self.plan.kind == "everything" else self.plan.records[0].id
            return Reply(await cleanup.forget(interaction.client, memory, target))

        await respond.update(interaction, forget(), defer_after=self.defer_after)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self.cancelled(interaction)


class ForgetChoiceView(OwnerOnlyView):
    """A menu of the memories that matched ``/forget <words>``; picking one erases it."""

    def __init__(
        self, hub: Hub, plan: ForgetPlan, origin: discord.Interaction, timing: respond.Timing
    ) -> None:
        super().__init__(hub, origin, timing)
        self.offered = [record.id for record in plan.records]
        self.menu = _Menu(
            custom_id=self.custom_id("choose"),
            placeholder="Choose the memory to forget",
            options=[
                discord.SelectOption(
                    label=shorten(f"{number}. {record.text}", OPTION_LABEL_LIMIT), value=record.id
                )
                for number, record in enumerate(plan.records, 1)
            ],
        )
        self.add_item(self.menu)
        self.add_item(
            _CancelButton(
                label="Cancel", style=discord.ButtonStyle.secondary, custom_id=self.custom_id("cancel")
            )
        )

    async def chosen(self, interaction: discord.Interaction) -> None:
        self.stop()
        memory = memory_of(self.hub, interaction.user)
        chosen = [value for value in self.menu.values if value in self.offered]

        async def forget() -> Reply:
            if not chosen:
                return Reply(replies.forgotten(0))
            return Reply(await cleanup.forget(interaction.client, memory, chosen[0]))

        await respond.update(interaction, forget(), defer_after=self.defer_after)


class _Menu(discord.ui.Select[ForgetChoiceView]):
    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.chosen(interaction)


class _CancelButton(discord.ui.Button[ForgetChoiceView]):
    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.cancelled(interaction)


def question(plan: ForgetPlan, shown_chars: int) -> str:
    """The escaped question for ``plan``, each memory cut to ``shown_chars`` so that the question and
    its buttons fit in one message."""
    return replies.forget_question(plan, lambda text: shorten(escape(text), shown_chars))
