"""Where Cubby keeps its files, and who may read them.

Everything Cubby writes - the database and its WAL and shared-memory files, mem0's config, Slack
installations, exports - holds memories or secrets, so the data dir is ``0700`` and every file in it
``0600``. The ``cubby`` command also narrows the process umask, so files that libraries create on
Cubby's behalf are private from their first byte; the functions here make the same true for code
that opens a hub directly, and tighten a data dir left readable by an older version.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.config import Settings
from core.errors import CubbyError, InvalidInput
from core.keys import UserKey

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
DATABASE_NAME = "memories.sqlite3"
EXPORT_PREFIX = "cubby-memories-"


class NoCubbyData(CubbyError):
    """An operator command was pointed at a folder that holds no Cubby store."""


def restrict_new_files() -> None:
    """Make every file this process creates from now on private to its owner (umask 077)."""
    os.umask(os.umask(0o077) | 0o077)


def private_dir(path: Path) -> Path:
    """Create ``path`` if needed, and every missing parent, each ``0700`` (``mkdir(parents=True)``
    would give the parents the umask's mode); ``path`` itself is left at ``0700``."""
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        path.chmod(PRIVATE_DIR_MODE)
    return path


# What Cubby itself puts in a data dir. Only these are tightened, so a data dir pointed at a folder
# that also holds other files (a home directory, say) never has those changed.
_CUBBY_ENTRIES = (
    DATABASE_NAME,
    f"{DATABASE_NAME}-wal",
    f"{DATABASE_NAME}-shm",
    f"{DATABASE_NAME}-journal",
    "mem0",
    "slack",
    "exports",
    "demo",
)


def tighten_data_dir(data_dir: Path) -> None:
    """The data dir ``0700``, and Cubby's own files and folders in it ``0600`` / ``0700``."""
    private_dir(data_dir)
    for name in _CUBBY_ENTRIES:
        if os.path.lexists(data_dir / name):
            _tighten_tree(data_dir / name)


def _tighten_tree(root: Path) -> None:
    """Folders ``0700`` and files ``0600`` from ``root`` down (symlinks and other owners' files
    untouched)."""
    me = os.geteuid()
    for path in (root, *root.rglob("*")):
        info = path.lstat()
        if path.is_symlink() or info.st_uid != me:
            continue
        mode = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
        if info.st_mode & 0o777 != mode:
            path.chmod(mode)


def prepare_database_file(data_dir: Path) -> Path:
    """The embedded database's path, with the file created ``0600`` if it does not exist yet. SQLite
    gives the WAL and shared-memory files it creates later the database file's mode."""
    private_dir(data_dir)
    path = data_dir / DATABASE_NAME
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE))
    tighten_data_dir(data_dir)
    return path


def require_existing_store(settings: Settings) -> None:
    """Refuse, naming the folder, when the embedded store is not there: an operator command must never
    create an empty store and report that someone "has no memories" while their memories sit
    elsewhere. (PostgreSQL and hosted data live outside the data dir.)"""
    if settings.backend != "embedded":
        return
    data_dir = settings.data_dir.expanduser().absolute()
    if not (data_dir / DATABASE_NAME).is_file():
        raise NoCubbyData(f"no Cubby data at {data_dir} (set CUBBY_DATA_DIR to the data dir the bots use)")


def write_new_private_file(path: Path, content: bytes) -> Path:
    """Write ``content`` to a new file at ``path``, mode ``0600``. Never overwrites, never follows a
    symlink (a dangling one included), so an existing file's mode or owner is never reused."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise InvalidInput(f"{path} already exists; choose a new file name") from None
    except (FileNotFoundError, NotADirectoryError):
        raise InvalidInput(f"the folder {path.parent} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder") from None
    except PermissionError:
        raise InvalidInput(f"no permission to write {path}") from None
    except OSError as error:  # a name too long, a read-only disk, ...
        raise InvalidInput(f"cannot write {path} ({error.strerror or type(error).__name__})") from None
    except ValueError:  # a NUL byte, or text the file system cannot encode
        raise InvalidInput("that is not a usable file name") from None
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE_MODE)
        file.write(content)
    return path


def exports_dir(data_dir: Path, key: UserKey) -> Path:
    """Where ``cubby chat`` puts one person's exports by default: inside the data dir, one folder
    per person, so erasing that person can erase their exports too."""
    return data_dir / "exports" / str(key).replace(":", "-")


def erase_exports(folder: Path) -> int:
    """Delete the export files Cubby wrote into ``folder``; returns how many there were."""
    if not folder.is_dir():
        return 0
    erased = 0
    for path in folder.glob(f"{EXPORT_PREFIX}*.json"):
        if path.is_file() and not path.is_symlink():
            path.unlink()
            erased += 1
    return erased


def switch_to_wal(db: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Put ``db`` in WAL mode, waiting for it. A connection switching a new file to WAL while another
    process or thread opens it gets "database is locked" at once, without SQLite's busy handler (5 to
    7 of 40 trials when three workers opened a fresh data dir together)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


@contextmanager
def write_transaction(
    db: sqlite3.Connection, lock: threading.Lock | threading.RLock
) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``db`` (an autocommit connection shared under ``lock``): it takes the
    write lock at once, so two processes never both read and then fail to write, and rolls back on
    any error."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
