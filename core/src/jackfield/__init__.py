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

# Every public name, declared once: name -> the module that defines it. ``__all__`` is derived
# from it, and tests/core/test_package.py checks the type-checking imports at the bottom.
_EXPORTS: dict[str, str] = {
    # one-line calls on a shared default host
    "acomplete": "jackfield._default",
    "arun": "jackfield._default",
    "astream": "jackfield._default",
    "complete": "jackfield._default",
    "default_host": "jackfield._default",
    "embed": "jackfield._default",
    "run": "jackfield._default",
    "stream": "jackfield._default",
    # hosts, agents, configuration
    "Agent": "jackfield._host",
    "Host": "jackfield._host",
    "AgentConfig": "jackfield._config",
    "Config": "jackfield._config",
    "InstanceConfig": "jackfield._config",
    "MCPServerConfig": "jackfield._config",
    "ConversationInfo": "jackfield._logs",
    "ConversationLog": "jackfield._logs",
    "LoggedTurn": "jackfield._logs",
    "SearchHit": "jackfield._logs",
    "find_config": "jackfield._config",
    "json_schema": "jackfield._config",
    "load_config": "jackfield._config",
    "parse_config": "jackfield._config",
    # the registry
    "InstanceSpec": "jackfield._specs",
    "PluginInfo": "jackfield._specs",
    "PluginProblem": "jackfield._specs",
    "ProviderSpec": "jackfield._specs",
    "ToolSpec": "jackfield._specs",
    "Registry": "jackfield._registry",
    "load_registry": "jackfield._registry",
    # providers
    "Capabilities": "jackfield._info",
    "CredentialCheck": "jackfield._info",
    "Embeddings": "jackfield._info",
    "ModelInfo": "jackfield._info",
    "ModelList": "jackfield._info",
    "Status": "jackfield._info",
    "ChatRequest": "jackfield._pipeline",
    "Exchange": "jackfield.provider",
    "Operation": "jackfield.provider",
    "Provider": "jackfield.provider",
    # streams and answers
    "AsyncFragmentStream": "jackfield._stream",
    "FragmentStream": "jackfield._stream",
    "Choice": "jackfield._response",
    "Response": "jackfield._response",
    # fragments
    "Completion": "jackfield._fragments",
    "FinishReason": "jackfield._fragments",
    "Fragment": "jackfield._fragments",
    "TextDelta": "jackfield._fragments",
    "ThoughtDelta": "jackfield._fragments",
    "ToolCall": "jackfield._fragments",
    "ToolCallDelta": "jackfield._fragments",
    "ToolResult": "jackfield._fragments",
    "RunFragment": "jackfield._fragments",
    "Usage": "jackfield._fragments",
    # tools and the tool loop
    "AsyncRun": "jackfield._loop",
    "Run": "jackfield._loop",
    "FunctionTool": "jackfield._tools",
    "ToolOutput": "jackfield._tools",
    "tool": "jackfield._tools",
    "MCPServer": "jackfield._mcp",
    "MCPTool": "jackfield._mcp",
    # messages
    "AssistantMessage": "jackfield._messages",
    "Conversation": "jackfield._messages",
    "ImagePart": "jackfield._messages",
    "Message": "jackfield._messages",
    "SystemMessage": "jackfield._messages",
    "TextPart": "jackfield._messages",
    "Tool": "jackfield._messages",
    "ToolMessage": "jackfield._messages",
    "UserMessage": "jackfield._messages",
    # options, secrets and conversion
    "Resolved": "jackfield._options",
    "field_docs": "jackfield._options",
    "merge_patch": "jackfield._options",
    "resolve": "jackfield._options",
    "structure": "jackfield._options",
    "Secret": "jackfield._secret",
    "converter": "jackfield._converter",
    "dump_fragment": "jackfield._converter",
    "load_fragment": "jackfield._converter",
    # errors
    "TIMEOUT_PHASES": "jackfield._errors",
    "AuthenticationError": "jackfield._errors",
    "BadRequestError": "jackfield._errors",
    "ConfigError": "jackfield._errors",
    "ConfigFileError": "jackfield._errors",
    "ContextLengthError": "jackfield._errors",
    "ConversationError": "jackfield._errors",
    "DisabledInstanceWarning": "jackfield._errors",
    "DuplicateProviderError": "jackfield._errors",
    "InvalidToolArguments": "jackfield._errors",
    "MCPError": "jackfield._errors",
    "OutputError": "jackfield._errors",
    "ToolError": "jackfield._errors",
    "Issue": "jackfield._errors",
    "JackfieldError": "jackfield._errors",
    "MalformedStreamError": "jackfield._errors",
    "NotFoundError": "jackfield._errors",
    "NotSupportedError": "jackfield._errors",
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
    "TruncatedStreamError": "jackfield._errors",
    "UnknownProviderError": "jackfield._errors",
    "ValidationError": "jackfield._errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


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
    from jackfield._config import AgentConfig as AgentConfig
    from jackfield._config import Config as Config
    from jackfield._config import InstanceConfig as InstanceConfig
    from jackfield._config import MCPServerConfig as MCPServerConfig
    from jackfield._config import find_config as find_config
    from jackfield._config import json_schema as json_schema
    from jackfield._config import load_config as load_config
    from jackfield._config import parse_config as parse_config
    from jackfield._converter import converter as converter
    from jackfield._converter import dump_fragment as dump_fragment
    from jackfield._converter import load_fragment as load_fragment
    from jackfield._default import acomplete as acomplete
    from jackfield._default import arun as arun
    from jackfield._default import astream as astream
    from jackfield._default import complete as complete
    from jackfield._default import default_host as default_host
    from jackfield._default import embed as embed
    from jackfield._default import run as run
    from jackfield._default import stream as stream
    from jackfield._errors import TIMEOUT_PHASES as TIMEOUT_PHASES
    from jackfield._errors import AuthenticationError as AuthenticationError
    from jackfield._errors import BadRequestError as BadRequestError
    from jackfield._errors import ConfigError as ConfigError
    from jackfield._errors import ConfigFileError as ConfigFileError
    from jackfield._errors import ContextLengthError as ContextLengthError
    from jackfield._errors import ConversationError as ConversationError
    from jackfield._errors import DisabledInstanceWarning as DisabledInstanceWarning
    from jackfield._errors import DuplicateProviderError as DuplicateProviderError
    from jackfield._errors import InvalidToolArguments as InvalidToolArguments
    from jackfield._errors import Issue as Issue
    from jackfield._errors import JackfieldError as JackfieldError
    from jackfield._errors import MalformedStreamError as MalformedStreamError
    from jackfield._errors import MCPError as MCPError
    from jackfield._errors import NotFoundError as NotFoundError
    from jackfield._errors import NotSupportedError as NotSupportedError
    from jackfield._errors import OptionsError as OptionsError
    from jackfield._errors import OutputError as OutputError
    from jackfield._errors import PermissionDeniedError as PermissionDeniedError
    from jackfield._errors import ProviderError as ProviderError
    from jackfield._errors import ProviderLoadError as ProviderLoadError
    from jackfield._errors import RateLimitError as RateLimitError
    from jackfield._errors import RegistryError as RegistryError
    from jackfield._errors import SecurityWarning as SecurityWarning
    from jackfield._errors import ServerError as ServerError
    from jackfield._errors import ServiceConnectionError as ServiceConnectionError
    from jackfield._errors import ServiceTimeoutError as ServiceTimeoutError
    from jackfield._errors import StreamError as StreamError
    from jackfield._errors import StreamLimitError as StreamLimitError
    from jackfield._errors import ToolError as ToolError
    from jackfield._errors import TruncatedStreamError as TruncatedStreamError
    from jackfield._errors import UnknownProviderError as UnknownProviderError
    from jackfield._errors import ValidationError as ValidationError
    from jackfield._fragments import Completion as Completion
    from jackfield._fragments import FinishReason as FinishReason
    from jackfield._fragments import Fragment as Fragment
    from jackfield._fragments import RunFragment as RunFragment
    from jackfield._fragments import TextDelta as TextDelta
    from jackfield._fragments import ThoughtDelta as ThoughtDelta
    from jackfield._fragments import ToolCall as ToolCall
    from jackfield._fragments import ToolCallDelta as ToolCallDelta
    from jackfield._fragments import ToolResult as ToolResult
    from jackfield._fragments import Usage as Usage
    from jackfield._host import Agent as Agent
    from jackfield._host import Host as Host
    from jackfield._info import Capabilities as Capabilities
    from jackfield._info import CredentialCheck as CredentialCheck
    from jackfield._info import Embeddings as Embeddings
    from jackfield._info import ModelInfo as ModelInfo
    from jackfield._info import ModelList as ModelList
    from jackfield._info import Status as Status
    from jackfield._logs import ConversationInfo as ConversationInfo
    from jackfield._logs import ConversationLog as ConversationLog
    from jackfield._logs import LoggedTurn as LoggedTurn
    from jackfield._logs import SearchHit as SearchHit
    from jackfield._loop import AsyncRun as AsyncRun
    from jackfield._loop import Run as Run
    from jackfield._mcp import MCPServer as MCPServer
    from jackfield._mcp import MCPTool as MCPTool
    from jackfield._messages import AssistantMessage as AssistantMessage
    from jackfield._messages import Conversation as Conversation
    from jackfield._messages import ImagePart as ImagePart
    from jackfield._messages import Message as Message
    from jackfield._messages import SystemMessage as SystemMessage
    from jackfield._messages import TextPart as TextPart
    from jackfield._messages import Tool as Tool
    from jackfield._messages import ToolMessage as ToolMessage
    from jackfield._messages import UserMessage as UserMessage
    from jackfield._options import Resolved as Resolved
    from jackfield._options import field_docs as field_docs
    from jackfield._options import merge_patch as merge_patch
    from jackfield._options import resolve as resolve
    from jackfield._options import structure as structure
    from jackfield._pipeline import ChatRequest as ChatRequest
    from jackfield._registry import Registry as Registry
    from jackfield._registry import load_registry as load_registry
    from jackfield._response import Choice as Choice
    from jackfield._response import Response as Response
    from jackfield._secret import Secret as Secret
    from jackfield._specs import InstanceSpec as InstanceSpec
    from jackfield._specs import PluginInfo as PluginInfo
    from jackfield._specs import PluginProblem as PluginProblem
    from jackfield._specs import ProviderSpec as ProviderSpec
    from jackfield._specs import ToolSpec as ToolSpec
    from jackfield._stream import AsyncFragmentStream as AsyncFragmentStream
    from jackfield._stream import FragmentStream as FragmentStream
    from jackfield._tools import FunctionTool as FunctionTool
    from jackfield._tools import ToolOutput as ToolOutput
    from jackfield._tools import tool as tool
    from jackfield.provider import Exchange as Exchange
    from jackfield.provider import Operation as Operation
    from jackfield.provider import Provider as Provider
