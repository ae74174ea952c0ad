"""``jackfield embed``: embedding vectors for texts, one JSON line each."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from jackfield._cli.args import UsageError, call_options
from jackfield._cli.report import OK

__all__ = ["cmd_embed"]


def _texts(args: argparse.Namespace) -> list[str]:
    if args.texts:
        return list(args.texts)
    if sys.stdin.isatty():
        raise UsageError("no text given: pass texts as arguments, or one per line on stdin")
    texts = [line.rstrip("\r\n") for line in sys.stdin]
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise UsageError("stdin held no text to embed (empty lines are skipped)")
    return texts


def cmd_embed(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._cli.survey import load_host

    texts = _texts(args)
    options = call_options(args)
    with load_host(args) as host:
        result = host.agent(args.model).embed(texts, **options)
    if args.json:
        from jackfield._converter import converter

        data = {"texts": texts, **converter.unstructure(result)}
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        return OK
    for vector in result.vectors:
        out.write(json.dumps(list(vector)) + "\n")
    return OK
