"""Cubby's Slack adapter (slack-bolt ``AsyncApp``): ``cubby slack`` runs :func:`run`.

Layout: ``app`` builds the Bolt app from settings; ``listeners`` registers, from one table, the
handlers of ``slash``, ``actions``, ``home``, ``conversation`` and ``uninstall``; ``blocks`` builds
Block Kit; ``identity`` is the one place a user key is made from a payload; ``dedupe`` drops retried
events; ``runner`` connects and serves.
"""

from bots.slack.runner import run

__all__ = ["run"]
