"""switchboard: one interface to any LLM chat backend, with providers shipped as plugins.

``import switchboard`` is cheap: every name below is imported on first access.

>>> import switchboard
>>> registry = switchboard.load_registry()
>>> provider = registry.create("openai-compatible", {"preset": "llamacpp"})  # doctest: +SKIP
>>> for fragment in provider.stream("Hello!"):  # doctest: +SKIP
...     print(fragment)
"""

# This module imports nothing at run time but sys (not even typing): see __getattr__.
import sys as _sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ below.
_EXPORTS: dict[str, str] = {
    # registry
    "Registry": "switchboard.registry",
    "load_registry": "switchboard.registry",
    # providers
    "Capabilities": "switchboard.provider",
    "ChatRequest": "switchboard.provider",
    "CredentialCheck": "switchboard.provider",
    "Embeddings": "switchboard.provider",
    "Exchange": "switchboard.provider",
    "ModelInfo": "switchboard.provider",
    "ModelList": "switchboard.provider",
    "Operation": "switchboard.provider",
    "Provider": "switchboard.provider",
    "Status": "switchboard.provider",
    # streams and responses
    "AsyncFragmentStream": "switchboard._stream",
    "FragmentStream": "switchboard._stream",
    "Choice": "switchboard._response",
    "Response": "switchboard._response",
    # fragments
    "Completion": "switchboard.fragments",
    "FinishReason": "switchboard.fragments",
    "Fragment": "switchboard.fragments",
    "TextDelta": "switchboard.fragments",
    "ThoughtDelta": "switchboard.fragments",
    "ToolCall": "switchboard.fragments",
    "ToolCallDelta": "switchboard.fragments",
    "Usage": "switchboard.fragments",
    # messages
    "AssistantMessage": "switchboard.messages",
    "Conversation": "switchboard.messages",
    "ImagePart": "switchboard.messages",
    "Message": "switchboard.messages",
    "SystemMessage": "switchboard.messages",
    "TextPart": "switchboard.messages",
    "Tool": "switchboard.messages",
    "ToolMessage": "switchboard.messages",
    "UserMessage": "switchboard.messages",
    # options and conversion
    "Resolved": "switchboard.options",
    "merge_patch": "switchboard.options",
    "resolve": "switchboard.options",
    "Secret": "switchboard._secret",
    "converter": "switchboard._converter",
    "dump_fragment": "switchboard._converter",
    "load_fragment": "switchboard._converter",
    # errors
    "AuthenticationError": "switchboard._errors",
    "BadRequestError": "switchboard._errors",
    "ConfigError": "switchboard._errors",
    "ContextLengthError": "switchboard._errors",
    "ConversationError": "switchboard._errors",
    "DuplicateProviderError": "switchboard._errors",
    "InvalidToolArguments": "switchboard._errors",
    "MalformedStreamError": "switchboard._errors",
    "NotFoundError": "switchboard._errors",
    "NotSupportedError": "switchboard._errors",
    "OptionIssue": "switchboard._errors",
    "OptionsError": "switchboard._errors",
    "PermissionDeniedError": "switchboard._errors",
    "ProviderError": "switchboard._errors",
    "ProviderLoadError": "switchboard._errors",
    "RateLimitError": "switchboard._errors",
    "RegistryError": "switchboard._errors",
    "SecurityWarning": "switchboard._errors",
    "ServerError": "switchboard._errors",
    "ServiceConnectionError": "switchboard._errors",
    "ServiceTimeoutError": "switchboard._errors",
    "StreamError": "switchboard._errors",
    "StreamLimitError": "switchboard._errors",
    "SwitchboardError": "switchboard._errors",
    "TruncatedStreamError": "switchboard._errors",
    "UnknownProviderError": "switchboard._errors",
    "ValidationError": "switchboard._errors",
}

__all__ = [
    "AssistantMessage",
    "AsyncFragmentStream",
    "AuthenticationError",
    "BadRequestError",
    "Capabilities",
    "ChatRequest",
    "Choice",
    "Completion",
    "ConfigError",
    "ContextLengthError",
    "Conversation",
    "ConversationError",
    "CredentialCheck",
    "DuplicateProviderError",
    "Embeddings",
    "Exchange",
    "FinishReason",
    "Fragment",
    "FragmentStream",
    "ImagePart",
    "InvalidToolArguments",
    "MalformedStreamError",
    "Message",
    "ModelInfo",
    "ModelList",
    "NotFoundError",
    "NotSupportedError",
    "Operation",
    "OptionIssue",
    "OptionsError",
    "PermissionDeniedError",
    "Provider",
    "ProviderError",
    "ProviderLoadError",
    "RateLimitError",
    "Registry",
    "RegistryError",
    "Resolved",
    "Response",
    "Secret",
    "SecurityWarning",
    "ServerError",
    "ServiceConnectionError",
    "ServiceTimeoutError",
    "Status",
    "StreamError",
    "StreamLimitError",
    "SwitchboardError",
    "SystemMessage",
    "TextDelta",
    "TextPart",
    "ThoughtDelta",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolMessage",
    "TruncatedStreamError",
    "UnknownProviderError",
    "Usage",
    "UserMessage",
    "ValidationError",
    "__version__",
    "converter",
    "dump_fragment",
    "load_fragment",
    "load_registry",
    "merge_patch",
    "resolve",
]


def __getattr__(name: str) -> "Any":
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'switchboard' has no attribute {name!r}")
    __import__(module)
    value = getattr(_sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from switchboard._converter import converter, dump_fragment, load_fragment
    from switchboard._errors import (
        AuthenticationError,
        BadRequestError,
        ConfigError,
        ContextLengthError,
        ConversationError,
        DuplicateProviderError,
        InvalidToolArguments,
        MalformedStreamError,
        NotFoundError,
        NotSupportedError,
        OptionIssue,
        OptionsError,
        PermissionDeniedError,
        ProviderError,
        ProviderLoadError,
        RateLimitError,
        RegistryError,
        SecurityWarning,
        ServerError,
        ServiceConnectionError,
        ServiceTimeoutError,
        StreamError,
        StreamLimitError,
        SwitchboardError,
        TruncatedStreamError,
        UnknownProviderError,
        ValidationError,
    )
    from switchboard._response import Choice, Response
    from switchboard._secret import Secret
    from switchboard._stream import AsyncFragmentStream, FragmentStream
    from switchboard.fragments import (
        Completion,
        FinishReason,
        Fragment,
        TextDelta,
        ThoughtDelta,
        ToolCall,
        ToolCallDelta,
        Usage,
    )
    from switchboard.messages import (
        AssistantMessage,
        Conversation,
        ImagePart,
        Message,
        SystemMessage,
        TextPart,
        Tool,
        ToolMessage,
        UserMessage,
    )
    from switchboard.options import Resolved, merge_patch, resolve
    from switchboard.provider import (
        Capabilities,
        ChatRequest,
        CredentialCheck,
        Embeddings,
        Exchange,
        ModelInfo,
        ModelList,
        Operation,
        Provider,
        Status,
    )
    from switchboard.registry import Registry, load_registry
