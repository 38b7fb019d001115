"""The ``cubby`` command."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

from core import ConfigError, CubbyError, Settings, load_settings, logs, storage

# Operator commands report on stderr themselves, one line per outcome; their log lines would only
# interleave with that report (the bots' start-up warnings, such as where the master key is kept).
_REPORTING_COMMANDS = ("memories", "keys")


def _configure_logging(settings: Settings, command: str) -> None:
    quiet = command in _REPORTING_COMMANDS and settings.log_level != "DEBUG"
    logs.configure("ERROR" if quiet else settings.log_level)


# The optional dependencies each platform needs, and the extra that installs them.
_EXTRAS = {"slack": ("slack_bolt", "slack_sdk", "aiohttp"), "discord": ("discord", "aiohttp")}


def _version() -> str:
    try:
        return importlib.metadata.version("cubby")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _missing_extra(command: str) -> str | None:
    """The one-line reason ``cubby <command>`` cannot run here, or None when it can."""
    missing = [name for name in _EXTRAS.get(command, ()) if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"`cubby {command}` needs the {command} extra (missing: {', '.join(missing)}); install it "
        f"with: pip install 'cubby[{command}]' (in a clone: .venv/bin/pip install -e '.[{command}]')"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cubby", description="A private long-term memory for every person.")
    parser.add_argument("--version", action="version", version=f"cubby {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the two-person isolation scenario on the embedded store")
    chat = sub.add_parser("chat", help="talk to Cubby in the terminal")
    chat.add_argument("--user", required=True, help="your name (lowercase letters, digits, - and _)")
    memories = sub.add_parser("memories", help="operator commands for people's data and the store")
    action = memories.add_subparsers(dest="action", required=True)
    export = action.add_parser("export", help="print (or --output) everything held about a person")
    export.add_argument("--user", required=True, help="the user key, e.g. slack:T0123:U0456")
    export.add_argument("--output", type=Path, help="write to this file (mode 600) instead of stdout")
    forget = action.add_parser("forget", help="erase everything held about a person")
    forget.add_argument("--user", required=True, help="the user key, e.g. discord:81234567890123456")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reembed = action.add_parser("reembed", help="move the whole store to another embedding model")
    reembed.add_argument("--model", required=True, choices=["minilm", "multilingual"])
    reembed.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    load = action.add_parser("import", help="import a Cubby export file into a person's memory")
    load.add_argument("--user", required=True, help="the user key the memories land under")
    load.add_argument("file", type=Path, help="a Cubby export (cubby memories export, or /export)")
    keys = sub.add_parser("keys", help="operator commands for the master key")
    key_action = keys.add_subparsers(dest="action", required=True)
    rotate = key_action.add_parser("rotate", help="re-wrap every person key under a new master key")
    rotate.add_argument(
        "--new-key-file", type=Path, help="where to write the new key (needed with CUBBY_MASTER_KEY)"
    )
    sub.add_parser("slack", help="run the Slack bot")
    sub.add_parser("discord", help="run the Discord bot")
    return parser


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bots import terminal

    if args.command == "demo":
        return await terminal.demo(settings)
    if args.command == "chat":
        return await terminal.chat(settings, args.user)
    if args.command == "memories":
        from bots import operator

        if args.action == "export":
            return await operator.export_memories(settings, args.user, args.output)
        if args.action == "reembed":
            return await operator.reembed_store(settings, args.model, assume_yes=args.yes)
        if args.action == "import":
            return await operator.import_memories(settings, args.user, args.file)
        return await operator.forget_memories(settings, args.user, assume_yes=args.yes)
    if args.command == "keys":
        from bots import operator

        return await asyncio.to_thread(operator.rotate_keys, settings, args.new_key_file)
    if args.command == "slack":
        from bots.slack import run as run_slack

        return await run_slack(settings)
    if args.command == "discord":
        from bots.discord import run as run_discord

        return await run_discord(settings)
    raise ConfigError(f"'cubby {args.command}' is not available in this build")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = _missing_extra(args.command)
    if missing:
        print(f"cubby: {missing}", file=sys.stderr)
        return 2
    storage.restrict_new_files()  # everything Cubby writes holds memories or secrets
    try:
        settings = load_settings()
        _configure_logging(settings, args.command)
        return asyncio.run(_run(args, settings))
    except ConfigError as error:
        print(f"cubby: {error}", file=sys.stderr)
        return 2
    except CubbyError as error:
        print(f"cubby: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
