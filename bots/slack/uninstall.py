"""Uninstalling Cubby erases what it holds for that workspace.

``app_uninstalled``, and ``tokens_revoked`` for the bot token (after which Cubby can no longer act
there), erase the memories of every person keyed under that installation (``slack:<id>:*``) and then
its stored installation (OAuth mode). Revoked *user* tokens only drop those tokens: Cubby asks for none.

Enterprise Grid: memories are keyed by the organisation (see ``identity``), so uninstalling Cubby from
any workspace of an organisation erases the memories of that organisation's people - and those still
kept under that workspace's own key from before it joined the organisation. Cubby errs on the side
of erasing: it cannot tell which workspace a person used it from.

Slack Connect: a guest from another organisation who used Cubby through this installation is keyed
under her own organisation, so this uninstall does not erase her memories: they are hers, erased by
her /forget (or ``cubby memories forget --user slack:<her org>:<her id>``) and by an uninstall from her
own organisation.

Cubby's DM messages and export files cannot be deleted after an uninstall: Slack has revoked the
token by the time these events arrive. Their references are erased with each person.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bots.slack import identity
from bots.slack.services import Services, services_of

log = logging.getLogger(__name__)


def _installation_prefixes(body: dict[str, Any]) -> list[str]:
    """The key prefixes of the uninstalling organisation: its enterprise and, for a workspace of it,
    the workspace too - where its people's memories were kept before it joined the organisation."""
    enterprise, team = identity.installation_ids(body)
    return [identity.workspace_prefix(workspace) for workspace in (enterprise, team) if workspace]


async def erase_workspace(services: Services, body: dict[str, Any]) -> int:
    """Erase every memory of the installation that sent ``body``; returns how many people had any."""
    prefixes = _installation_prefixes(body)
    if not prefixes:
        log.warning("an uninstall event named no workspace; nothing erased")
        return 0
    people = {key for prefix in prefixes for key in await services.hub.users_in_workspace(prefix)}
    failed = posts = 0
    for key in sorted(people, key=str):  # one person's failure must not leave everyone else's behind
        try:
            posts += len((await services.hub.scoped(key).erase_everything()).posts)
        except Exception as error:
            failed += 1
            log.error("could not erase one person's memories after an uninstall: %s", type(error).__name__)
    log.info("erased the memories of %d people of an uninstalled workspace", len(people) - failed)
    if posts:
        # Slack revokes the bot token before it sends these events, so Cubby can no longer delete its
        # own messages there; the references to them are erased with the people.
        log.warning("%d DM posts of Cubby's could not be deleted: the workspace revoked its token", posts)
    if failed:
        raise RuntimeError(f"{failed} people's memories could not be erased")
    return len(people)


async def _forget_installation(store: AsyncInstallationStore | None, body: dict[str, Any]) -> None:
    if store is None:  # a single-workspace bot: its tokens live in the environment, nothing stored
        log.warning("Cubby was uninstalled from its workspace; its Slack tokens no longer work")
        return
    enterprise, team = identity.installation_ids(body)
    await store.async_delete_all(enterprise_id=enterprise, team_id=team)


async def _nobody_to_tell(message: str) -> None:
    return None  # the workspace is gone; there is nobody left to apologise to


async def uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
    services = services_of(context)

    async def work() -> None:
        await erase_workspace(services, body)
        await _forget_installation(services.installation_store, body)

    await services.handle("app_uninstalled", work, _nobody_to_tell)


async def tokens_revoked(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
    services = services_of(context)
    store = services.installation_store
    tokens = event.get("tokens")
    if not isinstance(tokens, dict):
        tokens = {}
    bot_revoked = bool(tokens.get("bot"))
    revoked_users = [user for user in tokens.get("oauth") or [] if isinstance(user, str)]

    async def work() -> None:
        if bot_revoked:
            await erase_workspace(services, body)
            await _forget_installation(store, body)
        elif revoked_users and store is not None:
            enterprise, team = identity.installation_ids(body)
            for user in revoked_users:
                await store.async_delete_installation(enterprise_id=enterprise, team_id=team, user_id=user)

    await services.handle("tokens_revoked", work, _nobody_to_tell)
