"""The SDK's version (kept beside pyproject.toml's, which is the source of truth)."""

__version__ = "0.1.0"
