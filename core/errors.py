"""Errors the core raises. Each carries a message that is safe to show to the person who caused it:
it never contains anyone's memory text."""


class CubbyError(Exception):
    """Base class for every error the core raises on purpose."""


class InvalidUserKey(CubbyError, ValueError):
    """A user key is not one of Cubby's canonical, platform-qualified forms."""


class InvalidInput(CubbyError, ValueError):
    """Text, a query or an id from a person that the core will not act on."""


class MemoryFull(CubbyError):
    """The person already holds the most memories one person may hold."""


class BackendUnavailable(CubbyError):
    """The memory backend failed; nothing was changed, or the change was rolled back."""
