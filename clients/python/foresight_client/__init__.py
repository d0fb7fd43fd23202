"""Python client for Foresight (typed plans over the OpenAI-compatible API)."""

__all__: list[str] = []
