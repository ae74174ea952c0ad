"""A tiny random-weight chat model (Qwen2 by default, or Llama), made offline, for the live suites
of servers that load Hugging Face models (vLLM, ``transformers serve``).

Nothing is downloaded: the tokenizer is a small byte-level BPE trained here on a few sentences
(so any text can be written with it), with the chat markers of Qwen's format as tokens of their
own (``<|im_start|>``, ``<|im_end|>``, ``<think>``, ``<tool_call>`` and their ends: servers'
reasoning and tool-call parsers look them up); the weights are random. Its answers mean nothing:
the checks force what they need with the servers' own constraints. The architecture only
changes the model type servers see (``transformers serve`` parses ``<think>`` and tool calls for
Qwen2 and leaves a Llama's text as it is); tokenizer and chat template are the same.

:func:`make` runs this file as a script in a child process (the server's interpreter, which has
torch and transformers), so the test process never imports torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
"""Control tokens (dropped from decoded text)."""
MARKERS = ["<think>", "</think>", "<tool_call>", "</tool_call>"]
"""Tokens of their own that stay in decoded text, as in Qwen's tokenizers."""

# Qwen's ChatML layout with a tools block and tool calls in <tool_call> tags (Hermes style,
# which vLLM's `hermes` tool parser and transformers serve's Qwen response template both read).
CHAT_TEMPLATE = """\
{%- if tools %}<|im_start|>system
{% if messages[0].role == "system" %}{{ messages[0].content }}

{% endif %}You may call these functions:
<tools>
{% for tool in tools %}{{ (tool.function if tool.function is defined else tool) | tojson }}
{% endfor %}</tools>
To call one, answer <tool_call>{"name": NAME, "arguments": ARGUMENTS}</tool_call>.<|im_end|>
{% elif messages[0].role == "system" %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == "system" %}
{%- elif message.role == "tool" %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% elif message.role == "assistant" %}<|im_start|>assistant
{% if message.content %}{{ message.content }}{% endif %}
{%- for call in message.tool_calls or [] %}
{%- set function = call.function if call.function is defined else call %}
<tool_call>
{"name": {{ function.name | tojson }}, "arguments": {{ function.arguments if function.arguments is string else function.arguments | tojson }}}
</tool_call>
{%- endfor %}<|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

CORPUS = [
    "Say something about the sea. The sea is wide and the sky is blue.",
    "What is the weather in Paris? It is sunny, 21 degrees celsius.",
    "hello world, hello there. I think the answer is hello.",
    '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}',
    "Get the weather for a city. You may call these functions to answer.",
    "the quick brown fox jumps over the lazy dog 0123456789",
]


def _printable(text: str) -> bool:
    return "\ufffd" not in text and text.replace("\n", "").isprintable()


ARCHITECTURES = ("qwen2", "llama")
"""The architectures :func:`make` builds (their ``model_type``)."""


def _build(directory: Path, encode: Sequence[str], architecture: str) -> dict[str, Any]:
    import torch
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    kinds = {"qwen2": (Qwen2Config, Qwen2ForCausalLM), "llama": (LlamaConfig, LlamaForCausalLM)}
    config_class, model_class = kinds[architecture]

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS * 4, trainer=trainer)
    bpe.add_tokens([AddedToken(m, special=False, normalized=False) for m in MARKERS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
    )
    tokenizer.save_pretrained(directory)

    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    vocabulary = len(tokenizer)
    config = config_class(
        vocab_size=vocabulary + (-vocabulary % 64),  # servers like a round vocabulary
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,  # head_dim 64: what vLLM's CPU attention supports
        max_position_embeddings=2048,
        tie_word_embeddings=False,  # tied, a random model echoes its last token forever
        eos_token_id=end,
        pad_token_id=pad,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    model = model_class(config).to(torch.float32)
    # Unconstrained, the model never says a control token, a marker or an id past the
    # tokenizer's: every embedding carries a constant in dimension 0, which survives the
    # normalisations, and those tokens' output rows weigh it strongly negative (a constraint
    # still forces them: a grammar masks everything else, a sequence bias outweighs it). So
    # free answers are plain text of the length asked for, never an accidental tool call.
    silent = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL + MARKERS]
    silent += range(vocabulary, config.vocab_size)
    # Lone bytes that are no character of their own (or a control character) too.
    silent += [i for i in range(vocabulary) if not _printable(tokenizer.decode([i]))]
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 1.0
        model.lm_head.weight[:, 0] = 0.0
        model.lm_head.weight[silent, 0] = -2.0
    model.generation_config = GenerationConfig(eos_token_id=end, pad_token_id=pad)
    model.save_pretrained(directory)

    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=True
    )
    if not isinstance(prompt, list):  # a BatchEncoding in transformers 5
        prompt = prompt["input_ids"]
    start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    anchor = prompt[len(prompt) - 1 - prompt[::-1].index(start) :]
    return {
        "eos": end,
        "pad": pad,
        "anchor": anchor,  # the ids every generation prompt ends with
        "ids": {text: tokenizer.encode(text, add_special_tokens=False) for text in encode},
    }


def make(
    directory: Path,
    python: str | None = None,
    encode: Sequence[str] = (),
    timeout: float = 300,
    architecture: str = "qwen2",
) -> dict[str, Any]:
    """Write the model (of one of :data:`ARCHITECTURES`) into ``directory`` with ``python``
    (default: this interpreter); return ``{"eos", "pad", "anchor", "ids": {text: token ids}}``
    for the texts in ``encode``."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"no tiny {architecture!r} model: one of {ARCHITECTURES}")
    info = directory / "tiny-model-ids.json"
    command = [str(directory), json.dumps(list(encode)), architecture]
    done = subprocess.run(
        # -I: this folder (where transformers.py is a server module) stays off sys.path.
        [python or sys.executable, "-I", __file__, *command],
        check=False,
        timeout=timeout,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    if done.returncode:
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        raise RuntimeError(f"making the tiny model failed ({done.returncode}):\n{output[-4000:]}")
    result: dict[str, Any] = json.loads(info.read_text(encoding="utf-8"))
    return result


if __name__ == "__main__":
    import os

    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"  # -I drops the env's
    target = Path(sys.argv[1])
    texts = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
    found = _build(target, texts, sys.argv[3] if len(sys.argv) > 3 else "qwen2")
    (target / "tiny-model-ids.json").write_text(json.dumps(found), encoding="utf-8")
