"""The operator's forget reaches the platforms where it can: deleting the DM messages and files Cubby
posted that quoted the erased memories.

An operator command runs outside the bots, so it can only delete them with a bot token it has:
``SLACK_BOT_TOKEN`` (or the workspace's stored OAuth installation) for Slack, ``DISCORD_TOKEN`` for
Discord. Without one it says so and lists the posts by platform, channel and id (never their text),
so that they can be deleted by whoever holds the token. (Each platform's client is imported only
when there is something to delete there: Slack and Discord support are optional installs.)
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from core import PostRef, Settings, UserKey, open_shared_state


@dataclass
class Outcome:
    removed: int = 0
    not_removed: list[str] = field(default_factory=list)
    no_token: list[PostRef] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = []
        if self.removed:
            lines.append(f"Deleted {self.removed} of Cubby's posts that quoted them.")
        if self.not_removed:
            lines.append("Could not delete: " + "; ".join(self.not_removed) + ".")
        if self.no_token:
            lines.append(
                f"{len(self.no_token)} of Cubby's posts quoting them remain: there is no bot token here to "
                "delete them with. Delete them with the bot's token:"
            )
            lines += [f"  {p.platform} {p.kind} {p.channel or '-'} {p.id}" for p in self.no_token]
        return lines


async def _slack_token(settings: Settings, key: UserKey) -> str | None:
    if importlib.util.find_spec("slack_sdk") is None:
        return None
    from bots.slack.app import installation_store

    if settings.slack_bot_token is not None:
        return settings.slack_bot_token.get_secret_value()
    if settings.slack_client_id is None or key.workspace is None:
        return None
    workspace = key.workspace
    enterprise, team = (workspace, None) if workspace.startswith("E") else (None, workspace)
    shared = open_shared_state(settings)
    try:
        bot = await installation_store(settings, shared).async_find_bot(
            enterprise_id=enterprise, team_id=team, is_enterprise_install=team is None
        )
    finally:
        await shared.close()
    return bot.bot_token if bot is not None else None


async def _slack(settings: Settings, key: UserKey, posts: list[PostRef], outcome: Outcome) -> None:
    token = await _slack_token(settings, key)
    if token is None:
        outcome.no_token += posts
        return
    from slack_sdk.web.async_client import AsyncWebClient

    from bots.slack import cleanup as slack_cleanup
    from bots.slack.app import api_url

    removal = await slack_cleanup.delete_posts(AsyncWebClient(token=token, base_url=api_url(settings)), posts)
    outcome.removed += removal.removed
    outcome.not_removed += removal.not_removed


async def _discord(settings: Settings, posts: list[PostRef], outcome: Outcome) -> None:
    if settings.discord_token is None or importlib.util.find_spec("discord") is None:
        outcome.no_token += posts
        return
    import discord

    from bots.discord import cleanup as discord_cleanup

    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(settings.discord_token.get_secret_value())
        removed, not_removed = await discord_cleanup.delete_posts(client, posts)
    finally:
        await client.close()
    outcome.removed += removed
    outcome.not_removed += not_removed


async def delete_posts(settings: Settings, key: UserKey, posts: list[PostRef]) -> Outcome:
    outcome = Outcome()
    slack_posts = [post for post in posts if post.platform == "slack"]
    discord_posts = [post for post in posts if post.platform == "discord"]
    if slack_posts:
        await _slack(settings, key, slack_posts, outcome)
    if discord_posts:
        await _discord(settings, discord_posts, outcome)
    return outcome
