"""Every Slack listener of Cubby, in one table, and the one function that registers them.

The handlers are plain top-level coroutines in their feature modules, importable and callable on
their own. Bolt passes each the arguments it names (``ack``, ``body``, ``event``, ``respond``,
``client``, ``context``); a handler finds the hub and the agent with
:func:`bots.slack.services.services_of`, which reads what the app's first middleware put in the
request's context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bots.slack import actions, blocks, conversation, home, personal, shortcuts, slash, uninstall
from bots.slack.services import Services


@dataclass(frozen=True, slots=True)
class Listener:
    kind: Literal["command", "action", "event", "shortcut", "view"]
    # the command name, the action id, the event type, the shortcut's or the modal's callback id
    matches: str
    handler: Callable[..., Awaitable[None]]


LISTENERS: tuple[Listener, ...] = (
    Listener("command", "/remember", slash.remember),
    Listener("command", "/recall", slash.recall),
    Listener("command", "/forget", slash.forget),
    Listener("command", "/cubby", slash.cubby),
    Listener("action", blocks.FORGET, actions.forget),
    Listener("action", blocks.FORGET_CANCEL, actions.cancel_forget),
    Listener("action", blocks.RECALL_PAGE, actions.turn_recall_page),
    Listener("action", blocks.EDIT, personal.open_edit),
    Listener("view", blocks.EDIT_MODAL, personal.submit_edit),
    Listener("event", "app_home_opened", home.home_opened),
    Listener("action", blocks.HOME_PAGE, home.turn_page),
    Listener("action", blocks.HOME_DELETE, home.delete_one),
    Listener("action", blocks.HOME_FORGET_ALL, home.forget_all),
    Listener("action", blocks.HOME_EXPORT, home.export),
    Listener("event", "message", conversation.direct_message),
    Listener("event", "app_mention", conversation.mention),
    Listener("shortcut", shortcuts.REMEMBER_THIS, shortcuts.remember_this),
    Listener("action", blocks.UNDO_REMEMBER, shortcuts.undo),
    Listener("event", "app_uninstalled", uninstall.uninstalled),
    Listener("event", "tokens_revoked", uninstall.tokens_revoked),
)


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Give every request ``services`` (first, before any other middleware), then add the table."""

    async def provide_services(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        services.provide_to(context)
        return await next()

    app.middleware(provide_services)
    for listener in LISTENERS:
        add = {
            "command": app.command,
            "action": app.action,
            "event": app.event,
            "shortcut": app.message_shortcut,
            "view": app.view,
        }[listener.kind]
        add(listener.matches)(listener.handler)
