"""Shell completion: ``jackfield completion bash|zsh|fish`` prints a script that asks
``jackfield __complete WORD...`` (a hidden command) for the candidates at each Tab.

The candidates come from the parser itself (commands, subcommands, flags, choices), so every
command and flag is completed without the script knowing any; instance and agent names come
from the configuration the command line would use (``--config`` given on it, else the usual
one). Finding commands and flags imports nothing but argparse; only names load the
configuration, and a configuration that cannot be read completes no names rather than failing.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from jackfield._cli.report import OK

__all__ = ["SHELLS", "candidates", "cmd_complete", "cmd_completion"]

_BASH = """\
# jackfield completion for bash: eval "$(jackfield completion bash)" in ~/.bashrc
_jackfield_complete() {
    local IFS=$'\\n'
    COMPREPLY=($(jackfield __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _jackfield_complete jackfield
"""

_ZSH = """\
#compdef jackfield
# jackfield completion for zsh: eval "$(jackfield completion zsh)" in ~/.zshrc
_jackfield_complete() {
    local -a found
    found=("${(@f)$(jackfield __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n "${found[*]}" ]]; then
        compadd -a found
    else
        _files
    fi
}
if (( $+functions[compdef] )); then
    compdef _jackfield_complete jackfield
fi
"""

_FISH = """\
# jackfield completion for fish: jackfield completion fish > ~/.config/fish/completions/jackfield.fish
function __jackfield_complete
    set -l words (commandline -opc) (commandline -ct)
    jackfield __complete -- $words[2..-1] 2>/dev/null
end
complete -c jackfield -a '(__jackfield_complete)'
"""

SHELLS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}
"""The completion script of each shell."""


def cmd_completion(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    out.write(SHELLS[args.shell])
    return OK


def cmd_complete(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    words = list(args.words)
    if words[:1] == ["--"]:
        words = words[1:]
    for candidate in candidates(words):
        out.write(candidate + "\n")
    return OK


# --- finding the candidates -----------------------------------------------------------------

_INSTANCE_DESTS = {"instances", "instance"}
"""Positionals and options whose values are instance names."""
_AGENT_DESTS = {"agent", "model"}
"""Positionals and options whose values are agent names (or instance names)."""


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0 and not isinstance(
        action,
        (argparse._StoreConstAction, argparse._CountAction, argparse._HelpAction),
    )


def candidates(words: list[str]) -> list[str]:
    """What may come at the last of ``words`` (the command line after ``jackfield``, the word
    being completed last, maybe empty), starting with what it already holds."""
    from jackfield._cli.args import parser as build

    *before, current = words or [""]
    parser = build()
    config: str | None = None
    positionals: list[str] = []
    pending: argparse.Action | None = None  # an option whose value comes next
    for word in before:
        if pending is not None:
            if pending.dest == "config":
                config = word
            pending = None
            continue
        if word.startswith("-") and word != "-":
            flag, equals, value = word.partition("=")
            action = parser._option_string_actions.get(flag)
            if action is not None and action.dest == "config" and equals:
                config = value
            if action is not None and _takes_value(action) and not equals:
                pending = action
            continue
        sub = _subparsers(parser)
        if sub is not None and not positionals and word in sub.choices:
            parser = sub.choices[word]
            continue
        positionals.append(word)
    if pending is not None:
        found = _values(pending, config)
    elif current.startswith("-"):
        found = sorted(
            flag
            for flag, action in parser._option_string_actions.items()
            if action.help is not argparse.SUPPRESS
        )
    else:
        sub = _subparsers(parser)
        if sub is not None and not positionals:
            found = [name for name in sub.choices if not name.startswith("_")]
        else:
            found = _positional_values(parser, len(positionals), config)
    return [c for c in found if c.startswith(current)]


def _values(action: argparse.Action, config: str | None) -> list[str]:
    if action.choices is not None:
        return [str(choice) for choice in action.choices]
    if action.dest in _AGENT_DESTS:
        return _names(config, agents=True)
    if action.dest in _INSTANCE_DESTS:
        return _names(config, agents=False)
    return []  # a file, a number, free text: the shell's own completion


def _positional_values(
    parser: argparse.ArgumentParser, index: int, config: str | None
) -> list[str]:
    positional = [a for a in parser._actions if not a.option_strings]
    for position, action in enumerate(positional):
        if position == index or (position < index and action.nargs in ("*", "+")):
            return _values(action, config)
    return []


def _names(config: str | None, *, agents: bool) -> list[str]:
    """Configured agents (when ``agents``) and instances, from the configuration the command
    would use; none when it cannot be read."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a disabled instance is not this moment's news
            from jackfield._host import Host

            with Host.load(config) as host:
                names = host.instance_names()
                return [*host.agent_names(), *names] if agents else names
    except Exception:  # noqa: BLE001 - completion never fails: no names, the shell goes on
        return []
