"""threadguard: self-hosted comment-thread moderation and stance classifier."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("threadguard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
