"""The configuration: what it holds, how a file is found, read and validated, its schema."""

from jackfield._config.files import (
    CONFIG_ENV,
    HOME_ENV,
    find_config,
    load_config,
    user_config_path,
    user_dir,
)
from jackfield._config.model import (
    AgentConfig,
    Config,
    InstanceConfig,
    MCPServerConfig,
    split_model_reference,
)
from jackfield._config.parse import parse_config
from jackfield._config.plugins import DisabledInstanceWarning
from jackfield._config.schema import json_schema

__all__ = [
    "CONFIG_ENV",
    "HOME_ENV",
    "AgentConfig",
    "Config",
    "DisabledInstanceWarning",
    "InstanceConfig",
    "MCPServerConfig",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
    "split_model_reference",
    "user_config_path",
    "user_dir",
]
