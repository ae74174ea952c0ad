"""How the packaged model is asked to chat: a conversation format it can continue.

The packaged gemma-3 270M is a *base* model: it continues text and follows no instructions.
Given Gemma's turn markers (or llama.cpp's ChatML fallback) it repeats the question, leaks
template tokens and never stops. What it does continue well is a plain transcript, so its
chat template frames every conversation as one: a line saying who speaks, three example
turns, then the conversation, each answer on the line after ``Assistant:``. Two stop strings
end an answer where the transcript would go on (a blank line, or the next ``User:`` line),
and llama.cpp applies them to every request that sends no ``stop`` of its own.

Used only for the packaged model, and only when no ``chat_template`` is given.
"""

from __future__ import annotations

__all__ = ["PACKAGED_CHAT_TEMPLATE", "PACKAGED_STOP"]

PACKAGED_CHAT_TEMPLATE = """\
{{ bos_token }}{% if messages and messages[0]['role'] == 'system' -%}
{{ messages[0]['content'] | trim }}{% set turns = messages[1:] %}
{%- else -%}
A conversation between a user and a helpful assistant who answers in one or two short, \
correct sentences.{% set turns = messages %}
{%- endif %}

User: Hi!
Assistant:
Hello! What would you like to know?

User: What is the capital of Italy?
Assistant:
The capital of Italy is Rome.

User: What colour is the sky?
Assistant:
On a clear day the sky is blue.
{% for message in turns %}{% if message['role'] == 'user' %}
User: {{ message['content'] | trim }}
{% elif message['role'] == 'assistant' %}Assistant:
{{ message['content'] | trim }}
{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:
{% endif %}"""
"""The packaged model's chat template (Jinja, as llama.cpp renders it)."""

PACKAGED_STOP = ("\nUser:", "\n\n")
"""Where an answer ends in the transcript: the next speaker, or a blank line."""
