"""Keeping the embedded store's files in memory, so a search never waits on the disk.

Compact rows let a million people's store fit in a machine's memory, but fitting is not staying. Hosts
that reclaim idle page cache on their own (cloud VMs running DAMON's proactive reclaim, for one) evict
a file's pages a few seconds after they were last read. With a million people most pages are idle
most of the time, so a search of someone not seen for a while went to the disk: 54 KB read and 4x the
time of a small store. Pages that a process has mapped are left alone by that reclaim and get a
second chance under ordinary memory pressure, so this module maps each registered file read-only and
faults its pages in (``MADV_POPULATE_READ``) on a background thread, following the file as it grows.

Nothing is copied: the mapping shows the file's own pages, so a row overwritten by ``secure_delete``
is overwritten here too. A file replaced on disk (another inode at the same path) is unmapped at the
next look, within a second, so an old file's pages are not kept alive by this module.

The pages are only mapped, never read from Python: a file truncated under the mapping cannot fault
this process, and populating past the end fails with an error instead. Linux only; elsewhere, and
with a budget of 0, it does nothing.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_PROT_READ = 1
_MAP_SHARED = 1
_MADV_WILLNEED = 3
_MADV_POPULATE_READ = 22  # Linux 5.14+
_CHUNK = 4 << 20  # bytes faulted in per call, so a register or release never waits long
_LOOK_EVERY_SECONDS = 1.0


def default_budget() -> int:
    """Three quarters of the machine's memory: what the store may keep mapped in one process. The
    pages stay reclaimable (they are clean file pages), so this is a preference, not a reservation."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 3 // 4
    except (ValueError, OSError):
        return 0


class _Libc:
    """``mmap``, ``munmap`` and ``madvise`` through ctypes: a foreign call releases the GIL, so
    faulting in gigabytes never stalls the event loop (``mmap.madvise`` would hold the GIL)."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.mmap = libc.mmap
        self.mmap.restype = ctypes.c_void_p
        self.mmap.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        ]
        self.munmap = libc.munmap
        self.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.madvise = libc.madvise
        self.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


@dataclass(eq=False)
class _Mapped:
    path: Path
    inode: tuple[int, int]
    address: int
    length: int  # the reserved length: the file may grow into it without a new mapping
    populated: int = 0  # bytes from the start that are faulted in
    users: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)


class ResidentFiles:
    """The files this process keeps in memory, within one budget for all of them."""

    def __init__(self, budget: int | None = None) -> None:
        self._budget = default_budget() if budget is None else budget
        self._lock = threading.Lock()
        self._files: dict[Path, _Mapped] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._libc = _Libc() if sys.platform.startswith("linux") else None
        self._unsupported = False

    @property
    def budget(self) -> int:
        return self._budget

    def set_budget(self, budget: int) -> None:
        """Change the budget; 0 releases every mapping and keeps nothing from now on."""
        with self._lock:
            self._budget = budget
            if budget == 0:
                for mapped in self._files.values():
                    self._unmap(mapped)
                self._files.clear()

    def keep(self, path: Path) -> bool:
        """Keep ``path`` in memory until as many :meth:`release` calls as ``keep`` calls that
        returned True (False: nothing is kept, and nothing needs releasing)."""
        if self._libc is None or self._budget == 0 or self._unsupported:
            return False
        path = path.resolve()
        with self._lock:
            mapped = self._files.get(path)
            if mapped is not None:
                mapped.users += 1
                return True
            mapped = self._map(path)
            if mapped is None:
                return False
            self._files[path] = mapped
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cubby-resident", daemon=True)
                self._thread.start()
        self._wake.set()
        return True

    def release(self, path: Path) -> None:
        path = path.resolve()
        with self._lock:
            mapped = self._files.get(path)
            if mapped is None:
                return
            mapped.users -= 1
            if mapped.users == 0:
                del self._files[path]
                self._unmap(mapped)

    def held_bytes(self) -> int:
        """Bytes of registered files faulted in so far."""
        with self._lock:
            return sum(mapped.populated for mapped in self._files.values())

    def settle(self) -> None:
        """Fault in everything the budget allows now, on the caller's thread (benchmarks and tests
        use it to start from a known state)."""
        self._look()

    # -- the background thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(_LOOK_EVERY_SECONDS)
            self._wake.clear()
            try:
                self._look()
            except Exception as error:  # the store works without this; never let the thread die
                log.warning("keeping the store in memory failed: %s", type(error).__name__)

    def _look(self) -> None:
        with self._lock:
            files = list(self._files.values())
        for mapped in files:
            self._follow(mapped)

    def _follow(self, mapped: _Mapped) -> None:
        try:
            stat = os.stat(mapped.path)
        except OSError:
            stat = None
        if stat is None or (stat.st_dev, stat.st_ino) != mapped.inode or stat.st_size > mapped.length:
            fresh = self._replace(mapped)
            if fresh is not None:
                self._follow(fresh)
            return
        size = stat.st_size
        with mapped.lock:
            mapped.populated = min(mapped.populated, size)  # truncated: nothing past the end is held
        while True:
            with self._lock:
                others = sum(m.populated for m in self._files.values() if m is not mapped)
                allowed = min(size, max(0, self._budget - others))
            with mapped.lock:
                if mapped.address == 0 or mapped.populated >= allowed:
                    return
                start = mapped.populated
                length = min(_CHUNK, allowed - start)
                if not self._populate(mapped.address + start, length):
                    return
                mapped.populated = start + length

    def _populate(self, address: int, length: int) -> bool:
        assert self._libc is not None
        self._libc.madvise(address, length, _MADV_WILLNEED)
        if self._libc.madvise(address, length, _MADV_POPULATE_READ) == 0:
            return True
        error = ctypes.get_errno()
        if error == errno.EINVAL:  # a kernel older than 5.14: nothing can be held
            self._unsupported = True
            log.info("this kernel cannot keep the store in memory (no MADV_POPULATE_READ)")
        return False  # EFAULT: the file shrank meanwhile; the next look starts from its new size

    # -- mappings -----------------------------------------------------------------------------
    def _map(self, path: Path) -> _Mapped | None:
        assert self._libc is not None
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            stat = os.fstat(descriptor)
            page = os.sysconf("SC_PAGE_SIZE")
            length = -(-max(stat.st_size * 2, self._budget, page) // page) * page
            address = self._libc.mmap(None, length, _PROT_READ, _MAP_SHARED, descriptor, 0)
        finally:
            os.close(descriptor)
        if address in (None, ctypes.c_void_p(-1).value):
            return None
        return _Mapped(path, (stat.st_dev, stat.st_ino), address, length)

    def _unmap(self, mapped: _Mapped) -> None:
        assert self._libc is not None
        with mapped.lock:
            if mapped.address:
                self._libc.munmap(mapped.address, mapped.length)
            mapped.address = 0
            mapped.populated = 0

    def _replace(self, mapped: _Mapped) -> _Mapped | None:
        """The file at the path is another one now (or outgrew the reservation): map it afresh."""
        with self._lock:
            if self._files.get(mapped.path) is not mapped:
                return None
            fresh = self._map(mapped.path)
            self._unmap(mapped)
            if fresh is None:
                del self._files[mapped.path]
                return None
            fresh.users = mapped.users
            self._files[mapped.path] = fresh
            return fresh


RESIDENT = ResidentFiles()
"""The one set of kept files of this process (memory is the process's, so the budget is too)."""
