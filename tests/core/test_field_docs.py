"""jackfield._options.field_docs: attribute docstrings of attrs fields, inherited ones too."""

from __future__ import annotations

import attrs

from jackfield._options import field_docs


@attrs.define
class Base:
    """A base."""

    size: int = 1
    """The size,
    in bytes."""
    colour: str = "red"
    plain: int = 0
    "Single quotes count too."


@attrs.define
class Child(Base):
    """A child that documents a new field and re-documents one of its base's."""

    colour: str = "blue"
    """The colour, now documented."""
    extra: bool = False
    """Something new."""
    NOT_A_FIELD = 3
    """A class constant, not a field."""


def test_docs_are_read_and_whitespace_collapsed() -> None:
    assert field_docs(Base) == {"size": "The size, in bytes.", "plain": "Single quotes count too."}


def test_subclasses_inherit_and_override() -> None:
    assert field_docs(Child) == {
        "size": "The size, in bytes.",
        "colour": "The colour, now documented.",
        "plain": "Single quotes count too.",
        "extra": "Something new.",
    }


def test_classes_without_source_have_no_docs() -> None:
    made = attrs.make_class("Made", {"x": attrs.field(default=1)})
    assert field_docs(made) == {}
    assert field_docs(attrs.make_class("Sub", {}, bases=(Base,))) == field_docs(Base)
