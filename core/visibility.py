"""Whether a reply may be shown where people other than its recipient can read it.

One rule for every adapter: **only help text may be public.** Every other reply to a person is about
that person's memory and is shown to them alone - an answer drawn from their memories, and equally
"I don't remember anything about that" (which tells readers what Cubby does not know about them), and
a refusal or an apology (one says how many memories they keep, another echoes what they asked). The
help text is the same for everyone and says nothing about anyone.

How "private" is delivered is the adapter's business: an ephemeral message on Slack; on Discord,
whose messages cannot be ephemeral, a DM with a pointer in the channel. In a DM or the terminal only
the person is present, so every reply is shown there as it is.
"""

from __future__ import annotations

from enum import Enum


class ReplyKind(Enum):
    HELP = "help"  # the same fixed text for everyone
    ABOUT_MEMORY = "about memory"  # an answer from the person's memories, including "nothing known"
    ERROR = "error"  # a refusal or apology to a request about the person's memory


def may_be_public(kind: ReplyKind) -> bool:
    """True only for replies that say nothing about anyone: the help text."""
    return kind is ReplyKind.HELP
