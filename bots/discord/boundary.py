"""The one error boundary of Cubby's Discord bot: every failure that escapes a piece of work - a slash
command, a button or menu, a message, any other gateway event - ends here.

It logs the error's type and never its message (which may quote memory text, and discord.py's default
handlers would log the whole traceback), then apologises to the person if there is one to tell.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from core import CubbyError

log = logging.getLogger(__name__)

Apologise = Callable[[Exception], Awaitable[None]]


async def contain(where: str, error: BaseException | None, apologise: Apologise | None = None) -> None:
    """Log that ``where`` failed with ``error`` (by type) and, given ``apologise``, tell the person.
    Never raises: there is nowhere further for a failure to go."""
    if isinstance(error, CubbyError):
        log.info("%s refused: %s", where, type(error).__name__)
    else:
        log.error("%s failed: %s", where, type(error).__name__)
    if apologise is None or not isinstance(error, Exception):
        return
    try:
        await apologise(error)
    except Exception as failure:  # the connection may be gone too; there is no one left to tell
        log.warning("could not apologise for %s: %s", where, type(failure).__name__)
