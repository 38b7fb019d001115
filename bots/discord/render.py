"""Turning Cubby's plain-text wording into what Discord accepts: escaped markup, messages within the
2,000-character limit, and export files."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord
from discord import utils

from core import ExportFile

MESSAGE_LIMIT = 2000
# Discord counts length in UTF-16 code units (an emoji can count twice); measuring the same way keeps
# every message under the limit whatever characters a memory holds.
NO_MENTIONS = discord.AllowedMentions.none()


def discord_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """``text`` shown literally: no markdown, no mention chips, no @everyone."""
    return utils.escape_mentions(utils.escape_markdown(text))


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` characters and ending in an ellipsis if cut.
    Safe on escaped text: a cut never leaves a dangling escape backslash."""
    flat = " ".join(text.split())
    if discord_length(flat) <= limit:
        return flat
    cut = limit - 1
    while discord_length(flat[:cut]) > limit - 1:
        cut -= 1
    return flat[:cut].rstrip().rstrip("\\") + "…"


def _hard_split(line: str, limit: int) -> list[str]:
    pieces = []
    while discord_length(line) > limit:
        cut = limit
        while discord_length(line[:cut]) > limit:
            cut -= 1
        # Never leave an escaping backslash at the end of a piece: it would escape nothing.
        while cut > 1 and line[cut - 1] == "\\":
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line] if line else pieces


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` as consecutive messages of at most ``limit``, broken between lines where possible."""
    messages: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if discord_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        *full, current = _hard_split(line, limit) or [""]
        messages.extend(full)
    if current or not messages:
        messages.append(current)
    return messages


@dataclass(frozen=True, slots=True)
class Reply:
    """What to show the person: ``text`` already escaped for Discord, maybe a file or buttons."""

    text: str
    file: ExportFile | None = None
    view: discord.ui.View | None = None


def attachment(export: ExportFile) -> discord.File:
    return discord.File(io.BytesIO(export.content), filename=export.filename)
