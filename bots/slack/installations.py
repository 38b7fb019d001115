"""Slack OAuth installations and install states in Cubby's shared state, so every worker sees them.

An installation made through one worker (the OAuth redirect lands on whichever worker the load
balancer picks) serves requests on all the others, and an install started on one worker can finish on
another. Records are sealed by the shared state (they hold bot tokens).

Installations made before this store existed are in files under ``<data dir>/slack/installations``
(slack_sdk's ``FileInstallationStore`` layout); the first call imports them - never over a newer
record - and removes the files, so no bot token stays in plain text on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core import SharedState

log = logging.getLogger(__name__)

INSTALLATIONS = "slack-installation"
OAUTH_STATES = "slack-oauth-state"


def _part(value: str | None) -> str:
    # Quoted, so no id can contain the separator and reach into another workspace's records.
    return quote(value or "", safe="")


class SharedInstallationStore(AsyncInstallationStore):
    """Bot installations by app, enterprise and workspace: ``<client>/<enterprise>/<team>/...``."""

    def __init__(self, state: SharedState, *, client_id: str, legacy_dir: Path | None = None) -> None:
        self._state = state
        self._client = _part(client_id)
        self._legacy_dir = legacy_dir / client_id if legacy_dir is not None else None
        self._imported = asyncio.Lock()
        self._import_done = legacy_dir is None

    @property
    def logger(self) -> logging.Logger:
        return log

    def _workspace(self, enterprise_id: str | None, team_id: str | None, enterprise_install: bool) -> str:
        team = None if enterprise_install else team_id
        return f"{self._client}/{_part(enterprise_id)}/{_part(team)}/"

    async def _put(self, key: str, record: Bot | Installation, *, replace: bool = True) -> None:
        await self._state.put(INSTALLATIONS, key, json.dumps(record.__dict__).encode(), replace=replace)

    async def _load(self, key: str) -> dict[str, Any] | None:
        await self.import_legacy_files()
        value = await self._state.get(INSTALLATIONS, key)
        return None if value is None else json.loads(value)

    # -- saving --------------------------------------------------------------------------------
    async def async_save(self, installation: Installation) -> None:
        await self._save(installation)

    async def _save(self, installation: Installation, *, replace: bool = True) -> None:
        where = self._workspace(
            installation.enterprise_id, installation.team_id, bool(installation.is_enterprise_install)
        )
        if installation.bot_token is not None:
            await self._put(where + "bot", installation.to_bot(), replace=replace)
        await self._put(where + "installer", installation, replace=replace)
        await self._put(where + "installer/" + _part(installation.user_id), installation, replace=replace)

    async def async_save_bot(self, bot: Bot) -> None:
        where = self._workspace(bot.enterprise_id, bot.team_id, bool(bot.is_enterprise_install))
        await self._put(where + "bot", bot)

    # -- finding -------------------------------------------------------------------------------
    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        data = await self._load(self._workspace(enterprise_id, team_id, bool(is_enterprise_install)) + "bot")
        return None if data is None else Bot(**data)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        where = self._workspace(enterprise_id, team_id, bool(is_enterprise_install))
        data = await self._load(where + ("installer" if user_id is None else "installer/" + _part(user_id)))
        if data is None:
            return None
        installation = Installation(**data)
        bot = await self._load(where + "bot")
        if bot is not None and bot.get("bot_token") != installation.bot_token:
            # A later install (by someone else) renewed the bot token: the bot record is current.
            for name in ("bot_id", "bot_user_id", "bot_token", "bot_scopes", "bot_refresh_token"):
                setattr(installation, name, bot.get(name))
            installation.bot_token_expires_at = bot.get("bot_token_expires_at")
        return installation

    # -- deleting ------------------------------------------------------------------------------
    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.import_legacy_files()
        await self._state.delete(INSTALLATIONS, self._workspace(enterprise_id, team_id, False) + "bot")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.import_legacy_files()
        where = self._workspace(enterprise_id, team_id, False)
        if user_id is None:
            await self._state.delete(INSTALLATIONS, where + "installer", prefix=True)
        else:
            await self._state.delete(INSTALLATIONS, where + "installer/" + _part(user_id))

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.import_legacy_files()
        await self._state.delete(INSTALLATIONS, self._workspace(enterprise_id, team_id, False), prefix=True)

    # -- files from before the shared store ----------------------------------------------------
    async def import_legacy_files(self) -> int:
        """Move installations from ``FileInstallationStore`` files into the shared state, once;
        returns how many workspaces were imported. A record already in the shared state wins."""
        if self._import_done:
            return 0
        async with self._imported:
            if self._import_done:
                return 0
            imported = await self._import_files()
            self._import_done = True
            return imported

    async def _import_files(self) -> int:
        assert self._legacy_dir is not None
        if not self._legacy_dir.is_dir():
            return 0
        imported = 0
        for workspace in sorted(path for path in self._legacy_dir.iterdir() if path.is_dir()):
            try:
                await self._import_workspace(workspace)
                imported += 1
            except (OSError, ValueError, TypeError) as error:  # keep the files: nothing is lost
                log.error("could not import a stored Slack installation: %s", type(error).__name__)
                continue
            shutil.rmtree(workspace)
        with contextlib.suppress(OSError):
            self._legacy_dir.rmdir()  # only if nothing was left behind
        if imported:
            log.info("moved %d Slack installations from files into the shared store", imported)
        return imported

    async def _import_workspace(self, folder: Path) -> None:
        bot_file = folder / "bot-latest"
        if bot_file.is_file():
            bot = Bot(**json.loads(bot_file.read_text()))
            where = self._workspace(bot.enterprise_id, bot.team_id, bool(bot.is_enterprise_install))
            await self._put(where + "bot", bot, replace=False)
        for path in sorted(folder.glob("installer-*latest")):
            await self._save(Installation(**json.loads(path.read_text())), replace=False)


class SharedOAuthStateStore(AsyncOAuthStateStore):
    """One-time install states: issued by any worker, consumed once by whichever gets the redirect."""

    def __init__(self, state: SharedState, *, expiration_seconds: float = 600) -> None:
        self._state = state
        self._expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        await self._state.put(OAUTH_STATES, state, b"", ttl_seconds=self._expiration_seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        if not isinstance(state, str) or not state or len(state) > 512 or "\0" in state:
            return False
        return await self._state.take(OAUTH_STATES, state) is not None
