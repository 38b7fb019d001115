"""What every assurance check hands back (:class:`Figure`), how a figure is printed, and the watch kept
over every log line the run produces (:class:`LogWatch`).

Every memory text and query the assurance run makes up carries a canary token (:func:`canary`), so
"memory text in a log line" is a regex match, whatever the line and however many texts there are.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CANARY = re.compile(r"cnry[0-9a-f]{12}")
LOG_FILE = "cubby-assurance.log"


def canary(rng: random.Random) -> str:
    """A token that appears in no text Cubby writes of its own: finding it means a text leaked."""
    return f"cnry{rng.getrandbits(48):012x}"


@dataclass
class Figure:
    """The outcome of one guarantee: one printed line, and the numbers behind it for the JSON."""

    guarantee: str
    volume: str
    mix: str
    result: str
    passed: bool
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{self.guarantee:<12} {self.volume:<30} ({self.mix})  {self.result}  {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"line": self.line()}


def percent_mix(counts: dict[str, int]) -> str:
    """``{"search": 40, "get": 10}`` as ``"80% search, 20% get"`` (largest first)."""
    total = sum(counts.values()) or 1
    parts = sorted(counts.items(), key=lambda item: -item[1])
    return ", ".join(f"{100 * n / total:.0f}% {name}" for name, n in parts if n)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class LogWatch(logging.Handler):
    """Sees every record that reaches the root logger at INFO and above and counts those whose
    message (or formatted exception) contains a canary. It keeps counts and logger names only,
    never a line's text, so the bench's own output cannot leak what it finds."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines = 0
        self.by_level: dict[str, int] = {}
        self.leaks: dict[str, int] = {}  # logger name -> lines with memory text
        self.external_leaks: dict[str, int] = {}  # e.g. a child process's stderr -> lines
        self.levels_before: dict[str, int] = {}  # logger levels to put back when the watch ends

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot even be formatted is reported, not raised
            text = f"unformattable record {record.msg!r} {record.args!r}"
        self.lines += 1
        self.by_level[record.levelname] = self.by_level.get(record.levelname, 0) + 1
        if CANARY.search(text):
            self.leaks[record.name] = self.leaks.get(record.name, 0) + 1

    def scan_output(self, source: str, text: str) -> None:
        """Count the lines of another process's log output (its stderr) that contain memory text."""
        for line in text.splitlines():
            self.lines += 1
            if CANARY.search(line):
                self.external_leaks[source] = self.external_leaks.get(source, 0) + 1

    @property
    def leaked_lines(self) -> int:
        return sum(self.leaks.values()) + sum(self.external_leaks.values())


def watch_logs(run_dir: Path) -> tuple[LogWatch, logging.FileHandler]:
    """Route every log record at INFO and above - Cubby's, mem0's, the chat libraries' - to a
    :class:`LogWatch` and to a log file in ``run_dir`` (scanned byte by byte by the erasure check),
    the way ``cubby`` configures logging: root at INFO, DEBUG off."""
    run_dir.mkdir(parents=True, exist_ok=True)
    watch = LogWatch()
    file_handler = logging.FileHandler(run_dir / LOG_FILE, encoding="utf-8")
    file_handler.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in (watch, file_handler):
        handler.setFormatter(formatter)
        logging.getLogger().addHandler(handler)
    # The fake Discord's own web server logs one access line per request it serves; it is the test
    # double's log, not Cubby's, and it names only paths and tokens.
    for name, level in (("", logging.INFO), ("aiohttp.access", logging.WARNING)):
        watch.levels_before[name] = logging.getLogger(name).level
        logging.getLogger(name).setLevel(level)
    return watch, file_handler


def stop_watching(watch: LogWatch, file_handler: logging.FileHandler) -> None:
    root = logging.getLogger()
    for handler in (watch, file_handler):
        root.removeHandler(handler)
    file_handler.close()
    for name, level in watch.levels_before.items():
        logging.getLogger(name).setLevel(level)
