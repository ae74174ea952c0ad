"""jackfield: one interface to any LLM chat backend, with providers shipped as plugins.

``import jackfield`` is cheap: every name below is imported on first access.

>>> import jackfield
>>> registry = jackfield.load_registry()
>>> provider = registry.create("openai-compatible", {"preset": "llamacpp"})  # doctest: +SKIP
>>> for fragment in provider.stream("Hello!"):  # doctest: +SKIP
...     print(fragment)
"""

# This module imports nothing at run time but sys (not even typing): see __getattr__.
import sys as _sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.2.0"

# name -> module that defines it; resolved lazily by __getattr__ below.
_EXPORTS: dict[str, str] = {
    # registry
    "Registry": "jackfield.registry",
    "load_registry": "jackfield.registry",
    # providers
    "Capabilities": "jackfield.provider",
    "ChatRequest": "jackfield.provider",
    "CredentialCheck": "jackfield.provider",
    "Embeddings": "jackfield.provider",
    "Exchange": "jackfield.provider",
    "ModelInfo": "jackfield.provider",
    "ModelList": "jackfield.provider",
    "Operation": "jackfield.provider",
    "Provider": "jackfield.provider",
    "Status": "jackfield.provider",
    # streams and responses
    "AsyncFragmentStream": "jackfield._stream",
    "FragmentStream": "jackfield._stream",
    "Choice": "jackfield._response",
    "Response": "jackfield._response",
    # fragments
    "Completion": "jackfield.fragments",
    "FinishReason": "jackfield.fragments",
    "Fragment": "jackfield.fragments",
    "TextDelta": "jackfield.fragments",
    "ThoughtDelta": "jackfield.fragments",
    "ToolCall": "jackfield.fragments",
    "ToolCallDelta": "jackfield.fragments",
    "Usage": "jackfield.fragments",
    # messages
    "AssistantMessage": "jackfield.messages",
    "Conversation": "jackfield.messages",
    "ImagePart": "jackfield.messages",
    "Message": "jackfield.messages",
    "SystemMessage": "jackfield.messages",
    "TextPart": "jackfield.messages",
    "Tool": "jackfield.messages",
    "ToolMessage": "jackfield.messages",
    "UserMessage": "jackfield.messages",
    # options and conversion
    "Resolved": "jackfield.options",
    "merge_patch": "jackfield.options",
    "resolve": "jackfield.options",
    "Secret": "jackfield._secret",
    "converter": "jackfield._converter",
    "dump_fragment": "jackfield._converter",
    "load_fragment": "jackfield._converter",
    # errors
    "AuthenticationError": "jackfield._errors",
    "BadRequestError": "jackfield._errors",
    "ConfigError": "jackfield._errors",
    "ContextLengthError": "jackfield._errors",
    "ConversationError": "jackfield._errors",
    "DuplicateProviderError": "jackfield._errors",
    "InvalidToolArguments": "jackfield._errors",
    "MalformedStreamError": "jackfield._errors",
    "NotFoundError": "jackfield._errors",
    "NotSupportedError": "jackfield._errors",
    "OptionIssue": "jackfield._errors",
    "OptionsError": "jackfield._errors",
    "PermissionDeniedError": "jackfield._errors",
    "ProviderError": "jackfield._errors",
    "ProviderLoadError": "jackfield._errors",
    "RateLimitError": "jackfield._errors",
    "RegistryError": "jackfield._errors",
    "SecurityWarning": "jackfield._errors",
    "ServerError": "jackfield._errors",
    "ServiceConnectionError": "jackfield._errors",
    "ServiceTimeoutError": "jackfield._errors",
    "StreamError": "jackfield._errors",
    "StreamLimitError": "jackfield._errors",
    "JackfieldError": "jackfield._errors",
    "TruncatedStreamError": "jackfield._errors",
    "UnknownProviderError": "jackfield._errors",
    "ValidationError": "jackfield._errors",
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
    "JackfieldError",
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
        raise AttributeError(f"module 'jackfield' has no attribute {name!r}")
    __import__(module)
    value = getattr(_sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from jackfield._converter import converter, dump_fragment, load_fragment
    from jackfield._errors import (
        AuthenticationError,
        BadRequestError,
        ConfigError,
        ContextLengthError,
        ConversationError,
        DuplicateProviderError,
        InvalidToolArguments,
        JackfieldError,
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
        TruncatedStreamError,
        UnknownProviderError,
        ValidationError,
    )
    from jackfield._response import Choice, Response
    from jackfield._secret import Secret
    from jackfield._stream import AsyncFragmentStream, FragmentStream
    from jackfield.fragments import (
        Completion,
        FinishReason,
        Fragment,
        TextDelta,
        ThoughtDelta,
        ToolCall,
        ToolCallDelta,
        Usage,
    )
    from jackfield.messages import (
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
    from jackfield.options import Resolved, merge_patch, resolve
    from jackfield.provider import (
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
    from jackfield.registry import Registry, load_registry
