"""Endpoint pools: the picker's rules with a fake clock (property-tested), and failover through
real sockets to scripted loopback servers (before the answer's first byte only)."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigFileError, ServerError, TruncatedStreamError
from jackfield.http import Endpoint, EndpointPool
from jackfield.http._clients import Clients
from tests.support.pools import pool_of
from tests.support.scripted_server import Reply, serving, sse


def test_round_robin_takes_turns_and_a_failed_endpoint_rests_with_a_growing_cooldown() -> None:
    pool, clock = pool_of(3, balance="round_robin", cooldown=1.0, max_cooldown=4.0)
    a, b, c = pool.endpoints
    picked = [pool.pick() for _ in range(6)]
    assert Counter(e.url for e in picked if e) == {a.url: 2, b.url: 2, c.url: 2}
    for endpoint in picked:
        assert endpoint is not None
        pool.finished(endpoint)
    rests = []
    for _ in range(4):  # a fails again each time it is back
        clock.now += 10
        pool.pick(exclude=[b.url, c.url])
        pool.finished(a, failed=True)
        rests.append(pool.status()[0].resting_for)
    assert rests == [1.0, 2.0, 4.0, 4.0]  # doubles, up to max_cooldown
    assert {pool.pick().url for _ in range(10)} == {b.url, c.url}  # type: ignore[union-attr]
    pool.answered(a)  # an answer ends the row at once
    assert pool.status()[0].failures == 0
    assert pool.status()[0].resting_for == 0


def test_when_every_endpoint_rests_the_one_back_first_is_tried() -> None:
    pool, clock = pool_of(2, cooldown=5.0)
    a, b = pool.endpoints
    pool.pick()
    pool.finished(a, failed=True)
    clock.now += 1
    pool.finished(b, failed=True)
    assert pool.pick() == a  # rests until 105, b until 106
    assert pool.pick(exclude=[a.url, b.url]) is None


def test_p2c_prefers_the_endpoint_with_fewer_requests_in_flight() -> None:
    pool, _ = pool_of(2)
    b = pool.endpoints[1]
    for _ in range(5):
        pool.pick(exclude=[b.url])  # five in flight on the first
    assert all(pool.pick() == b for _ in range(4))  # b has fewer until it has as many


def test_weighted_follows_the_weights() -> None:
    endpoints = [Endpoint("http://a:1/v1", weight=3), Endpoint("http://b:1/v1", weight=1)]
    pool = EndpointPool(endpoints, balance="weighted", rng=random.Random(1))
    counts = Counter()
    for _ in range(4000):
        endpoint = pool.pick()
        assert endpoint is not None
        counts[endpoint.url] += 1
        pool.finished(endpoint)
    assert 0.70 < counts["http://a:1/v1"] / 4000 < 0.80


@given(
    keys=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30, unique=True),
    n=st.integers(min_value=2, max_value=6),
    down=st.integers(min_value=0, max_value=5),
)
def test_affinity_is_stable_and_only_the_resting_endpoints_keys_move(
    keys: list[str], n: int, down: int
) -> None:
    pool, clock = pool_of(n)
    first = {}
    for key in keys:
        endpoint = pool.pick(affinity=key)
        assert endpoint is not None
        first[key] = endpoint.url
        pool.finished(endpoint)
    assert all(pool.pick(affinity=k).url == first[k] for k in keys)  # type: ignore[union-attr]
    resting = pool.endpoints[down % n]
    pool.finished(resting, failed=True)
    moved = {k: pool.pick(affinity=k).url for k in keys}  # type: ignore[union-attr]
    for key in keys:
        if first[key] == resting.url:
            assert moved[key] != resting.url
        else:
            assert moved[key] == first[key]  # keys of the others stay where they were
    clock.now += 1000  # back: every key goes home
    assert all(pool.pick(affinity=k).url == first[k] for k in keys)  # type: ignore[union-attr]


@given(st.lists(st.sampled_from(["pick", "ok", "fail", "tick"]), max_size=60))
def test_in_flight_never_goes_negative_and_pick_always_answers(steps: list[str]) -> None:
    pool, clock = pool_of(3)
    held: list[Endpoint] = []
    for step in steps:
        if step == "pick":
            endpoint = pool.pick()
            assert endpoint is not None
            held.append(endpoint)
        elif step in ("ok", "fail") and held:
            pool.finished(held.pop(), failed=step == "fail")
        elif step == "tick":
            clock.now += 0.7
        assert all(s.in_flight >= 0 for s in pool.status())
    assert sum(s.in_flight for s in pool.status()) == len(held)


# --- through real sockets ------------------------------------------------------------------------

OK = Reply(
    body=sse(
        {"choices": [{"index": 0, "delta": {"content": "hi"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
)
DOWN = Reply(status=503, headers={"content-type": "application/json"}, body=[b'{"error": "down"}'])


def provider(*urls: str, **options: Any) -> Any:
    settings = {"endpoints": [f"{u}/v1" for u in urls], "retries": {"attempts": 0}, **options}
    return jackfield.load_registry().create("openai-compatible", settings)


def test_a_failing_endpoint_fails_over_at_once_and_then_rests() -> None:
    with (
        serving([DOWN]) as down,
        serving([OK]) as up,
        provider(down.url, up.url, balance="round_robin") as pooled,
    ):
        texts = [pooled.complete("x").text for _ in range(4)]
        status = pooled.endpoints_status()
    assert texts == ["hi"] * 4  # no retries configured: failover is not a retry
    assert len(down.requests) == 1  # then it rested
    assert len(up.requests) == 4
    assert (status[0].failures, status[0].resting_for > 0) == (1, True)
    assert status[1].in_flight == 0


@pytest.mark.anyio
async def test_async_calls_fail_over_too() -> None:
    with serving([DOWN]) as down, serving([OK]) as up:
        pooled = provider(down.url, up.url, balance="round_robin")
        try:
            texts = [(await pooled.acomplete("x")).text for _ in range(3)]
        finally:
            await pooled.aclose()
    assert texts == ["hi"] * 3
    assert len(down.requests) == 1


def test_no_failover_after_the_answer_began() -> None:
    cut = Reply(
        body=sse({"choices": [{"index": 0, "delta": {"content": "par"}}]}, done=False), end="reset"
    )
    with (
        serving([cut]) as broken,
        serving([OK]) as up,
        provider(broken.url, up.url, balance="round_robin") as pooled,
    ):
        assert pooled.complete("x").text == "hi"  # round robin starts with the second
        with pytest.raises(jackfield.ProviderError) as caught:
            pooled.complete("x")
        assert caught.value.partial is not None
        assert caught.value.partial.text == "par"  # what arrived is kept, never generated twice
        assert len(up.requests) == 1


def test_errors_that_are_the_requests_fault_do_not_fail_over() -> None:
    refused = Reply(
        status=400,
        headers={"content-type": "application/json"},
        body=[b'{"error": {"message": "bad request"}}'],
    )
    with serving([refused]) as a, serving([refused]) as b, provider(a.url, b.url) as pooled:
        with pytest.raises(jackfield.BadRequestError):
            pooled.complete("x")
        assert len(a.requests) + len(b.requests) == 1


def test_every_endpoint_failing_is_the_last_error() -> None:
    with serving([DOWN]) as a, serving([DOWN]) as b, provider(a.url, b.url) as pooled:
        with pytest.raises(ServerError, match="HTTP 503"):
            pooled.complete("x")
        assert (len(a.requests), len(b.requests)) == (1, 1)


def test_affinity_header_and_an_endpoints_own_key() -> None:
    with serving([OK]) as a, serving([OK]) as b:
        endpoints = [f"{a.url}/v1", {"url": f"{b.url}/v1", "api_key": "key-of-b"}]
        options = {
            "endpoints": endpoints,
            "api_key": "shared-key",
            "affinity_header": "x-session-id",
        }
        with jackfield.load_registry().create("openai-compatible", options) as pooled:
            for _ in range(6):
                pooled.complete("x", affinity="conversation-42")
        sent = a.requests + b.requests
        assert len({r.path for r in sent}) == 1
        assert {r.headers.get("x-session-id") for r in sent} == {"conversation-42"}
        assert min(len(a.requests), len(b.requests)) == 0  # one endpoint took them all
        keys = {r.headers.get("authorization") for r in b.requests}
        assert keys <= {"Bearer key-of-b"}
        assert {r.headers.get("authorization") for r in a.requests} <= {"Bearer shared-key"}


def test_endpoints_in_a_configuration_file(tmp_path: Any) -> None:
    text = """
[providers.farm]
type = "openai-compatible"
endpoints = ["http://10.0.0.1:8080/v1", { url = "http://10.0.0.2:8080/v1", weight = 2 }]
balance = "round_robin"

[providers.bad]
type = "openai-compatible"
endpoints = ["10.0.0.3:8080", { url = "http://10.0.0.4:8080/v1", weight = 0 }]
"""
    path = tmp_path / "jackfield.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        jackfield.load_config(path, registry=jackfield.load_registry())
    message = str(caught.value)
    assert "providers.bad" in message
    assert "endpoints" in message
    good = jackfield.Host.from_mapping(
        {
            "providers": {
                "farm": json.loads(
                    json.dumps(
                        {
                            "type": "openai-compatible",
                            "endpoints": [
                                "http://10.0.0.1:8080/v1",
                                {"url": "http://10.0.0.2:8080/v1", "weight": 2},
                            ],
                        }
                    )
                )
            }
        }
    )
    with good:
        farm = good.provider("farm")
        assert [e.weight for e in farm.options.pool_endpoints] == [1.0, 2.0]
        assert farm.dry_run("x")["url"] == "http://10.0.0.1:8080/v1/chat/completions"


def test_a_truncated_answer_is_not_retried_elsewhere() -> None:
    cut = Reply(
        body=sse({"choices": [{"index": 0, "delta": {"content": "a"}}]}, done=False), end="close"
    )
    with serving([cut]) as a, serving([OK]) as b, provider(a.url, b.url) as pooled:
        results = []
        for _ in range(4):
            try:
                results.append(pooled.complete("x").text)
            except TruncatedStreamError as exc:
                results.append(f"cut:{exc.partial.text if exc.partial else ''}")
        assert len(a.requests) + len(b.requests) == 4  # one request each: none sent twice
        assert set(results) <= {"hi", "cut:a"}


def test_an_endpoints_own_key_is_never_shown_in_errors() -> None:
    def echo(received: Any) -> Reply:
        key = received.headers.get("authorization", "")
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {key}"}})
        return Reply(status=401, headers={"content-type": "application/json"}, body=[body.encode()])

    with serving(echo) as server:
        options = {
            "endpoints": [{"url": f"{server.url}/v1", "api_key": "ep-secret-123456"}],
            "retries": {"attempts": 0},
        }
        with (
            jackfield.load_registry().create("openai-compatible", options) as pooled,
            pytest.raises(jackfield.AuthenticationError) as caught,
        ):
            pooled.complete("x")
        assert server.requests[0].headers["authorization"] == "Bearer ep-secret-123456"
    assert "ep-secret-123456" not in str(caught.value)
    assert "ep-secret-123456" not in json.dumps(caught.value.body)


def test_priority_goes_in_the_body_and_in_a_header_when_asked() -> None:
    options = {"base_url": "http://127.0.0.1:9/v1", "priority_header": "x-priority"}
    with jackfield.load_registry().create("openai-compatible", options) as provider:
        asked = provider.dry_run("x", priority=-2)
        plain = provider.dry_run("x")
    assert (asked["body"]["priority"], asked["headers"]["x-priority"]) == (-2, "-2")
    assert "priority" not in plain["body"]  # unset: servers that refuse it never see it
    assert "x-priority" not in plain["headers"]


def test_each_endpoint_of_a_pool_has_its_own_connection_pool() -> None:
    urls = ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1", "http://[::1]:8003/v1"]
    clients = Clients(https=False, endpoints=urls)
    try:
        mounts = clients.sync()._mounts
        assert sorted(str(p.pattern) for p in mounts) == [
            "all://127.0.0.1:8001",
            "all://127.0.0.1:8002",
            "all://[::1]:8003",
        ]
        assert len({id(t) for t in mounts.values()}) == 3
    finally:
        clients.close()
    for alone in (Clients(https=False, endpoints=urls[:1]), Clients(https=False)):
        assert not alone.sync()._mounts  # one server: one pool, nothing to look up
        alone.close()


def test_a_pool_mixing_http_and_https_verifies_each_https_endpoint() -> None:
    urls = ["http://127.0.0.1:8001/v1", "https://10.0.0.2:8443/v1"]
    clients = Clients(https=True, endpoints=urls)
    try:
        mounts = {str(p.pattern): t for p, t in clients.sync()._mounts.items()}
        plain = mounts["all://127.0.0.1:8001"]._pool._ssl_context
        verified = mounts["all://10.0.0.2:8443"]._pool._ssl_context
    finally:
        clients.close()
    assert verified.verify_mode.name == "CERT_REQUIRED"
    assert verified.check_hostname
    assert plain is not verified
    assert plain.cert_store_stats()["x509_ca"] == 0  # plain http: trusts no CA, fails closed
