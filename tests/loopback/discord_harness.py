"""Acting as people on Discord: build the gateway payloads a real Discord would send when someone runs
a slash command, presses a button or writes a message, send them to the running bot through the fake,
and collect what the bot sent back."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bots.discord import CubbyBot
from core import Hub, ScopedMemory, UserKey
from tests.loopback.discord_gateway import (
    FakeDiscord,
    Recorded,
    member_payload,
    message_payload,
    snowflake,
    user_payload,
)

APPLICATION_ID = "1200000000000000001"
BOT_USER = user_payload(1200000000000000002, "Cubby", bot=True)
GUILD_ID = "1200000000000000010"
CHANNEL_ID = "1200000000000000011"
EPHEMERAL = 64
OPTION_TYPES = {str: 3, int: 4}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    bot: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        return user_payload(self.id, self.name, bot=self.bot)

    @property
    def key(self) -> UserKey:
        return UserKey.discord(self.id)

    @property
    def dm_channel_id(self) -> str:
        """The id of this person's DM channel with Cubby."""
        return str(int(self.id) + 10_000)


ALICE = Person("1200000000000000101", "alice")
BOB = Person("1200000000000000102", "bob")
OTHER_BOT = Person("1200000000000000103", "otherbot", bot=True)


def guild_payload() -> dict[str, Any]:
    return {
        "id": GUILD_ID,
        "name": "Test Server",
        "unavailable": False,
        "owner_id": ALICE.id,
        "member_count": 3,
        "roles": [
            {
                "id": GUILD_ID,
                "name": "@everyone",
                "permissions": "2248473465835073",
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
            }
        ],
        "channels": [_channel_payload()],
        "members": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "threads": [],
        "voice_states": [],
        "presences": [],
    }


def _channel_payload(guild_id: str = GUILD_ID) -> dict[str, Any]:
    return {
        "id": CHANNEL_ID,
        "type": 0,
        "guild_id": guild_id,
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
    }


def a_message(author: Person, content: str, *, channel_id: str = CHANNEL_ID, **fields: Any) -> dict[str, Any]:
    """A message someone posted, as Discord shows it in an interaction's ``resolved`` data."""
    return message_payload(snowflake(), channel_id, author.payload, content=content, **fields)


@dataclass
class Sent:
    """An interaction the harness dispatched; ``token`` identifies everything the bot sends for it."""

    id: str
    token: str


class DiscordSession:
    """A CubbyBot connected to a :class:`FakeDiscord`, and the actions people take on it."""

    def __init__(self, fake: FakeDiscord, bot: CubbyBot, hub: Hub) -> None:
        self.fake = fake
        self.bot = bot
        self.hub = hub

    def memory(self, person: Person) -> ScopedMemory:
        return self.hub.scoped(person.key)

    # -- interactions ---------------------------------------------------------------------------
    async def slash(
        self,
        person: Person,
        command: str,
        *,
        in_dm: bool = False,
        user_install_in: str | None = None,
        **options: Any,
    ) -> Sent:
        """``person`` runs ``/command``; with ``user_install_in`` (a server id), in that server through
        the person's own install of Cubby, which only sees the global commands."""
        data: dict[str, Any] = {
            "id": self.command_ids().get(command, snowflake()),
            "name": command,
            "type": 1,
        }
        data["options"] = [
            {"name": name, "type": OPTION_TYPES[type(value)], "value": value}
            for name, value in options.items()
        ]
        if user_install_in is not None:
            owners = {"1": person.id}
            return await self._interact(person, 2, data, in_dm=False, guild_id=user_install_in, owners=owners)
        if not in_dm and self.bot.settings.discord_dev_guild_id is not None:
            data["guild_id"] = GUILD_ID
        return await self._interact(person, 2, data, in_dm=in_dm)

    async def message_command(
        self,
        person: Person,
        target: dict[str, Any],
        *,
        name: str = "Remember this",
        in_dm: bool = False,
        guild_id: str = GUILD_ID,
        user_install: bool = False,
    ) -> Sent:
        """``person`` runs the message command ``name`` on ``target`` (a message payload), as Discord
        sends it: the whole message in ``resolved``. ``guild_id`` may name a server Cubby is not in
        (then ``user_install`` should be set: only a person's own install reaches there)."""
        data: dict[str, Any] = {
            "id": self.command_ids().get(name, snowflake()),
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        if not in_dm and not user_install and self.bot.settings.discord_dev_guild_id is not None:
            data["guild_id"] = guild_id  # a user install only ever sees the global commands
        owners = {"1": person.id} if user_install else None
        return await self._interact(person, 2, data, in_dm=in_dm, guild_id=guild_id, owners=owners)

    async def press(
        self,
        person: Person,
        message_id: str,
        custom_id: str,
        *,
        values: list[str] | None = None,
        in_dm: bool = False,
    ) -> Sent:
        """``person`` presses a button (or, with ``values``, picks from a menu) on a message."""
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        message = message_payload(message_id, CHANNEL_ID, BOT_USER, flags=EPHEMERAL, type=20)
        if values is None:  # Discord sends the message with its components; a dynamic item needs them
            pressed = {"type": 2, "style": 2, "label": "button", "custom_id": custom_id}
            message["components"] = [{"type": 1, "components": [pressed]}]
        return await self._interact(person, 3, data, in_dm=in_dm, message=message)

    async def _interact(
        self,
        person: Person,
        kind: int,
        data: dict[str, Any],
        *,
        in_dm: bool,
        message: dict[str, Any] | None = None,
        guild_id: str = GUILD_ID,
        owners: dict[str, str] | None = None,
        permissions: str = "0",
    ) -> Sent:
        sent = Sent(snowflake(), "token-" + secrets.token_hex(12))
        payload: dict[str, Any] = {
            "id": sent.id,
            "application_id": APPLICATION_ID,
            "type": kind,
            "token": sent.token,
            "version": 1,
            "data": data,
            "locale": "en-US",
            "entitlements": [],
            "app_permissions": "2248473465835073",
            "attachment_size_limit": 10_485_760,
            "context": 1 if in_dm else 0,
        }
        if message is not None:
            payload["message"] = message
        if in_dm:
            dm = {"id": person.dm_channel_id, "type": 1, "recipients": [person.payload]}
            payload.update(user=person.payload, channel_id=dm["id"], channel=dm)
            payload["authorizing_integration_owners"] = owners or {"0": GUILD_ID}
        else:
            member = member_payload(user=person.payload, permissions=permissions)
            payload.update(guild_id=guild_id, guild_locale="en-US", channel_id=CHANNEL_ID, member=member)
            payload.update(
                channel=_channel_payload(guild_id), authorizing_integration_owners=owners or {"0": guild_id}
            )
            if guild_id != GUILD_ID:  # a server Cubby is not in: Discord sends only a partial guild
                payload["guild"] = {"id": guild_id, "locale": "en-US", "features": []}
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return sent

    async def replies_to(self, sent: Sent, *, count: int = 1, timeout: float = 10.0) -> list[Recorded]:
        """The first ``count`` requests the bot made for ``sent``: its callback, then any followups
        and edits, in order."""
        return await self.fake.wait_for(
            lambda r: sent.token in r.path or sent.id in r.path, count=count, timeout=timeout
        )

    async def reply_to(self, sent: Sent) -> Recorded:
        return (await self.replies_to(sent))[0]

    async def reply_with_buttons(self, sent: Sent, timeout: float = 10.0) -> Recorded:
        """The first request for ``sent`` that carries buttons: the callback itself, or the followup
        after a "thinking" callback when the work outlasted the bot's ``defer_after``."""
        [found] = await self.fake.wait_for(
            lambda r: (sent.token in r.path or sent.id in r.path) and bool(r.custom_ids), timeout=timeout
        )
        return found

    def command_ids(self) -> dict[str, str]:
        synced = [r for r in self.fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
        return {command["name"]: command["id"] for r in synced for command in r.response}

    # -- messages -------------------------------------------------------------------------------
    async def say(
        self,
        person: Person,
        content: str,
        *,
        in_dm: bool = False,
        mention_bot: bool = False,
        message_type: int = 0,
        webhook: bool = False,
    ) -> str:
        """``person`` posts ``content`` in the server channel (or a DM); returns the message id."""
        message_id = snowflake()
        mentions = [BOT_USER] if mention_bot else []
        if mention_bot:
            content = f"<@{BOT_USER['id']}> {content}"
        channel_id = person.dm_channel_id if in_dm else CHANNEL_ID
        payload = message_payload(
            message_id, channel_id, person.payload, content=content, type=message_type, mentions=mentions
        )
        if webhook:
            payload["webhook_id"] = snowflake()
        if not in_dm:
            payload.update(guild_id=GUILD_ID, member=member_payload())
        await self.fake.dispatch("MESSAGE_CREATE", payload)
        return message_id

    async def messages_in(self, channel_id: str, *, after: int, count: int = 1) -> list[Recorded]:
        return await self.fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{channel_id}/messages",
            after=after,
            count=count,
        )
