"""What providers report: capabilities, models, status, credential checks, embeddings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from jackfield._fragments import Usage

__all__ = ["Capabilities", "CredentialCheck", "Embeddings", "ModelInfo", "ModelList", "Status"]


@attrs.frozen
class Capabilities:
    """What a provider (or one of its models) can do. ``max_context`` in tokens, if known.

    A provider's class states its own. A model's are what its server published (llama.cpp's
    ``/props``, Ollama's ``/api/show``, LM Studio's ``/api/v0/models``, a model list's
    ``max_model_len`` ...); a field the server did not speak of is ``None``: unknown, not no.
    """

    streaming: bool | None = True
    tools: bool | None = False
    system_prompt: bool | None = True
    multi_turn: bool | None = True
    vision: bool | None = False
    reasoning: bool | None = False
    embeddings: bool | None = False
    max_context: int | None = None

    @classmethod
    def published(cls, **known: Any) -> Capabilities:
        """Only what ``known`` says; every other field unknown (``None``)."""
        fields = {f.name: None for f in attrs.fields(cls)}
        return cls(**{**fields, **{k: v for k, v in known.items() if v is not None}})


@attrs.frozen
class ModelInfo:
    """One model a backend offers.

    ``kind`` is ``"chat"``, ``"embedding"`` or ``"unknown"``; ``loaded`` is ``None`` when the
    backend does not say; ``capabilities`` is what the server revealed about this model (its
    context length, vision ...), when it did; ``metadata`` keeps what the server reported
    beyond these fields.
    """

    id: str
    context_length: int | None = None
    kind: str = "chat"
    owned_by: str | None = None
    created: int | None = None
    loaded: bool | None = None
    aliases: tuple[str, ...] = ()
    capabilities: Capabilities | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


class ModelList(list[ModelInfo]):
    """The models a backend offers; ``reason`` says why the list is empty when it knows."""

    def __init__(self, models: Iterable[ModelInfo] = (), reason: str | None = None) -> None:
        super().__init__(models)
        self.reason = reason

    def __repr__(self) -> str:
        return f"ModelList({list(self)!r}, reason={self.reason!r})"


@attrs.frozen
class Status:
    """A backend's state, learned without generating any tokens.

    ``server_kind`` names the server software when what it says tells (``"llama.cpp"``,
    ``"vllm"`` ...), ``None`` when it does not; ``loaded_models`` are the models in memory, or
    ``None`` when the server does not say; ``error`` says what is wrong when ``connected`` is
    false or auth failed.
    """

    connected: bool
    server_kind: str | None = None
    models: tuple[str, ...] = ()
    loaded_models: tuple[str, ...] | None = None
    error: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class CredentialCheck:
    """The outcome of :meth:`Provider.validate`. ``kind`` says which credential is in use."""

    ok: bool
    kind: Literal["none", "api_key"]
    message: str


@attrs.frozen
class Embeddings:
    """Vectors for texts, in the order the texts were given."""

    vectors: tuple[tuple[float, ...], ...]
    model: str | None = None
    usage: Usage | None = None
