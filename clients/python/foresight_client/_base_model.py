"""The base of every response model: lenient, so that a newer server does not break parsing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ForesightModel(BaseModel):
    """A response object: unknown fields are kept (``model_extra``), missing optional ones
    take their defaults, and each field's docstring becomes its description."""

    model_config = ConfigDict(
        extra="allow",
        use_attribute_docstrings=True,
        # Fields such as `model_logprob` are plan data, not pydantic API.
        protected_namespaces=(),
    )
