"""The echo provider passes jackfield's provider conformance kit."""

import pytest

import jackfield
from jackfield.testing.conformance import ProviderConformance


class TestEchoConformance(ProviderConformance):
    usage = True
    model_listing = True
    # tools, reasoning, vision and embeddings stay False: echo has none of them

    @pytest.fixture
    def provider(self):
        with jackfield.load_registry().create("echo", {"prefix": "echo: "}) as provider:
            yield provider

    @pytest.fixture
    def failing_provider(self):
        with jackfield.load_registry().create("echo", {"unreachable": True}) as provider:
            yield provider
