"""Keeping memory text out of every log line, whatever ``CUBBY_LOG_LEVEL`` says.

Cubby's own log lines name error types and counts, never text. The libraries under it do not hold to
that: Slack's log whole request and response bodies and Socket Mode frames at DEBUG (and the body of
a request with a bad signature at INFO), discord.py quotes gateway payloads, the HTTP clients log
requests, mem0 logs memory text at INFO, asyncio quotes exception messages. Two layers keep them out:

- :func:`cap_library_loggers` raises every library logger to at least WARNING. Bolt gives each logger
  it creates its own level, copied from the root's at that moment, so capping the ``slack_bolt``
  parent is not enough: the cap walks every existing logger and has to run after the Bolt app, the
  Socket Mode handler and the Discord client exist. Callers run it after building each of them.
- :func:`withhold_library_details` replaces the message of every record a library logger makes, at any
  level and whichever handler receives it, with where it came from and the error type. It works at
  record creation (a log-record factory), so it also covers loggers created later and levels a
  library resets on its own, e.g. Bolt's per-request logger named after the app.

Rejections still say what happened: a request with a bad Slack signature logs that fact, without its
body, at INFO.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

# Loggers of libraries that can carry a request, a reply, a frame or an exception message. A name
# covers its children (``slack_sdk`` covers ``slack_sdk.web.async_base_client``). Cubby's own loggers
# are named after its modules (``core.*``, ``bots.*``).
LIBRARY_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "slack",
    "aiohttp",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "h11",
    "h2",
    "hpack",
    "openai",
    "discord",
    "websockets",
    "websocket",
    "mem0",
    "posthog",
    "urllib3",
    "psycopg",
    "asyncio",
)
# Bolt names its per-request and per-listener loggers after the app: ``cubby``, ``cubby:<listener>``.
BOLT_APP_NAME = "cubby"
LIBRARY_FLOOR = logging.WARNING
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Library lines that report a rejection: their level, and the fact they log instead of their text.
_BAD_SIGNATURE = "rejected a request whose Slack signature did not verify (its body is not logged)"
REJECTIONS = {
    "slack_bolt.AsyncRequestVerification": (logging.INFO, _BAD_SIGNATURE),
    "slack_bolt.RequestVerification": (logging.INFO, _BAD_SIGNATURE),
}

_WITHHELD = "details withheld: library log lines can quote requests, replies and memory text"
RecordFactory = Callable[..., logging.LogRecord]


@functools.lru_cache(maxsize=4096)  # asked for every record made; logger names are few
def is_library_logger(name: str) -> bool:
    if name == BOLT_APP_NAME or name.startswith(f"{BOLT_APP_NAME}:"):
        return True
    return any(name == library or name.startswith(f"{library}.") for library in LIBRARY_LOGGERS)


def _withhold(record: logging.LogRecord) -> None:
    error = record.exc_info[0] if record.exc_info else None
    rejection = REJECTIONS.get(record.name)
    fact = rejection[1] if rejection else _WITHHELD
    detail = f" ({error.__name__})" if error is not None else ""
    record.msg = f"{record.funcName}: {fact}{detail}"
    record.args = None
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None


class _Withholding:
    """The record factory installed by :func:`withhold_library_details`, wrapping the previous one."""

    def __init__(self, previous: RecordFactory) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        if is_library_logger(record.name):
            _withhold(record)
        return record


def withhold_library_details() -> None:
    """From now on, no record from a library logger carries its message, arguments or traceback."""
    if not isinstance(logging.getLogRecordFactory(), _Withholding):
        logging.setLogRecordFactory(_Withholding(logging.getLogRecordFactory()))


def _floor(name: str, root_level: int) -> int:
    rejection = REJECTIONS.get(name)
    return max(rejection[0] if rejection else LIBRARY_FLOOR, root_level)


def cap_library_loggers() -> None:
    """Raise every library logger that exists now to WARNING (or the root's level, if higher), and
    withhold library details. Run it again after building anything that creates loggers."""
    withhold_library_details()
    root_level = logging.getLogger().getEffectiveLevel()
    names = [*LIBRARY_LOGGERS, BOLT_APP_NAME, *REJECTIONS]
    names += [name for name in list(logging.Logger.manager.loggerDict) if is_library_logger(name)]
    for name in dict.fromkeys(names):
        logger = logging.getLogger(name)
        floor = _floor(name, root_level)
        if name in REJECTIONS or logger.level == logging.NOTSET or logger.level < floor:
            logger.setLevel(floor)


def library_logger(name: str) -> logging.Logger:
    """The logger ``name``, capped, to hand to a library that copies its level to loggers it makes
    later (Bolt does, for every listener and every request)."""
    cap_library_loggers()
    return logging.getLogger(name)


def configure(level: str) -> None:
    """How ``cubby`` logs: ``level`` for Cubby's own lines, to stderr; libraries capped.

    ``force`` because a library may have configured the root logger when it was imported (the OpenAI
    client does when ``OPENAI_LOG`` is set); Cubby's own setting decides."""
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr, force=True)
    cap_library_loggers()
