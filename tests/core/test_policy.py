"""Deadlines, retries and the attempt loop: pure policy, tested with a fake clock and fake
randomness, without a socket or a sleep."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import (
    AuthenticationError,
    ConfigError,
    ProviderError,
    RateLimitError,
    ServerError,
    ServiceConnectionError,
    ServiceTimeoutError,
)
from jackfield.http import Deadlines, Retries, RetryPolicy, Timeouts, parse_retry_after
from jackfield.http._drive import SEND, ReadError, Sleep, answered, attempts, drive


class Clock:
    """Seconds that move only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def deadlines(clock: Clock, **timeouts: Any) -> Deadlines:
    return Deadlines(Timeouts(**timeouts), "test", clock=clock)


# --- deadlines -------------------------------------------------------------------------------


def test_an_attempt_waits_at_most_the_connect_and_first_byte_limits() -> None:
    assert deadlines(Clock(), connect=3, first_byte=20).attempt() == (3, 20)


def test_the_total_deadline_caps_every_wait_and_shrinks_as_time_passes() -> None:
    clock = Clock()
    limits = deadlines(clock, connect=3, first_byte=20, total=10)
    assert limits.attempt() == (3, 10)
    clock.advance(8)
    assert limits.attempt() == (2, 2)
    assert limits.remaining() == 2
    clock.advance(5)
    assert limits.attempt() == (0.001, 0.001)  # never zero: zero means "no wait" to httpx


def test_a_body_read_waits_the_longer_of_first_byte_and_idle() -> None:
    assert deadlines(Clock(), first_byte=30, idle=5).body_read() == 30
    assert deadlines(Clock(), first_byte=30, idle=None).body_read() is None
    assert deadlines(Clock(), first_byte=30, idle=5, total=12).body_read() == 12


def test_no_event_before_the_first_byte_limit_is_a_first_byte_timeout() -> None:
    clock = Clock()
    limits = deadlines(clock, first_byte=10, idle=2)
    limits.attempt()
    clock.advance(9)
    limits.check(0, 1)  # a keep-alive chunk: bytes, but no event
    clock.advance(2)
    with pytest.raises(ServiceTimeoutError) as info:
        limits.check(0, 2)
    assert (info.value.phase, info.value.chunks) == ("first_byte", 2)
    assert "first_byte timeout 10" in str(info.value)


def test_events_reset_the_idle_clock_and_keep_alives_do_not() -> None:
    clock = Clock()
    limits = deadlines(clock, first_byte=10, idle=2)
    limits.attempt()
    for events in range(1, 20):  # an event every second: never idle
        clock.advance(1)
        limits.check(events, events)
    clock.advance(1.5)
    limits.check(19, 20)  # a keep-alive, 1.5 s after the last event
    clock.advance(1)
    with pytest.raises(ServiceTimeoutError) as info:
        limits.check(19, 21)
    assert info.value.phase == "idle"


def test_the_total_deadline_ends_even_a_lively_stream() -> None:
    clock = Clock()
    limits = deadlines(clock, total=5)
    for events in range(1, 5):
        clock.advance(1)
        limits.check(events, events)
    clock.advance(1.5)
    with pytest.raises(ServiceTimeoutError) as info:
        limits.check(5, 5)
    assert info.value.phase == "total"


# --- retries ---------------------------------------------------------------------------------

NOW = Clock()


def policy(random: float = 0.5, **retries: Any) -> RetryPolicy:
    return RetryPolicy(Retries(**retries), deadlines(NOW), random=lambda: random)


def test_backoff_doubles_and_is_scaled_by_the_random_factor() -> None:
    fast = policy(random=0.0, attempts=4, backoff=1, max_backoff=100)
    assert [fast.delay(ServiceConnectionError("x")) for _ in range(5)] == [0.5, 1, 2, 4, None]
    slow = policy(random=0.999999, attempts=2, backoff=1, max_backoff=100)
    assert [round(slow.delay(ServerError("x", status=503)) or 0, 3) for _ in range(2)] == [1, 2]


def test_backoff_is_capped() -> None:
    capped = policy(random=0.0, attempts=6, backoff=1, max_backoff=3)
    assert [capped.delay(ServiceConnectionError("x")) for _ in range(6)] == [
        0.5,
        1,
        1.5,
        1.5,
        1.5,
        1.5,
    ]


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ServiceConnectionError("refused"), True),
        (ServiceTimeoutError("slow", phase="connect"), True),
        (ServiceTimeoutError("slow", phase="first_byte"), False),
        (ServerError("busy", status=503), True),
        (ServerError("bad gateway", status=502), True),
        (RateLimitError("slow down", status=429), True),
        (ServerError("not implemented", status=501), False),
        (AuthenticationError("who?", status=401), False),
        (ProviderError("bad", status=400), False),
        (ServerError("in-stream error"), False),
    ],
)
def test_which_failures_are_retried(error: ProviderError, retried: bool) -> None:
    assert (policy().delay(error) is not None) == retried


def test_retry_after_is_honoured_up_to_a_limit() -> None:
    waits = policy(random=0.0, attempts=3, max_retry_after=30)
    assert waits.delay(RateLimitError("x", status=429, retry_after=7)) == 7
    assert waits.delay(RateLimitError("x", status=429, retry_after=31)) is None
    assert waits.made == 1  # a refused retry spends no attempt


def test_no_retry_waits_past_the_total_deadline() -> None:
    clock = Clock()
    limited = RetryPolicy(
        Retries(attempts=5, backoff=4), deadlines(clock, total=5), random=lambda: 0.999
    )
    assert limited.delay(ServiceConnectionError("x")) == pytest.approx(4, rel=1e-3)
    clock.advance(1)
    assert limited.delay(ServiceConnectionError("x")) is None  # 8 s would pass the deadline


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(date, now=lambda: now) == 90
    assert parse_retry_after(email.utils.formatdate(now - 5, usegmt=True), now=lambda: now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@given(
    st.lists(
        st.sampled_from(["connect", "503", "429", "429-late", "first_byte", "401"]), max_size=12
    ),
    st.integers(0, 5),
    st.floats(0, 0.999),
)
def test_retries_never_exceed_their_budget(failures: list[str], budget: int, random: float) -> None:
    made = {
        "connect": lambda: ServiceConnectionError("x"),
        "503": lambda: ServerError("x", status=503),
        "429": lambda: RateLimitError("x", status=429, retry_after=2),
        "429-late": lambda: RateLimitError("x", status=429, retry_after=600),
        "first_byte": lambda: ServiceTimeoutError("x", phase="first_byte"),
        "401": lambda: AuthenticationError("x", status=401),
    }
    retries = Retries(attempts=budget, backoff=0.5, max_backoff=4, max_retry_after=60)
    rule = RetryPolicy(retries, deadlines(Clock()), random=lambda: random)
    granted = 0
    for kind in failures:
        error = made[kind]()
        wait = rule.delay(error)
        if wait is None:
            continue
        granted += 1
        assert 0 <= wait <= max(retries.max_backoff, error.retry_after or 0)
        assert kind in ("connect", "503", "429")
    assert granted == rule.made <= budget


# --- the attempt loop, driven without a socket ------------------------------------------------


class Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def run(outcomes: list[Any], revise: Any = None, **retries: Any) -> tuple[Any, list[Any]]:
    """Drive the attempt loop with ``outcomes`` as the answers to its sends."""
    steps: list[Any] = []
    answers = iter(outcomes)

    def do(step: Any) -> Any:
        steps.append(step)
        if step is SEND:
            return next(answers)
        if isinstance(step, ReadError):
            return b'{"error": "busy"}'
        assert isinstance(step, Sleep)
        return None

    def on_error(response: Any, body: bytes) -> ProviderError:
        return ServerError(body.decode(), status=response.status_code)

    rule = RetryPolicy(Retries(**retries), deadlines(Clock()), random=lambda: 0.0)
    try:
        return drive(attempts(rule, on_error, revise=revise), do), steps
    except ProviderError as error:
        return error, steps


def test_a_revised_request_goes_out_at_once_without_spending_a_retry() -> None:
    ok, refused = Response(200), Response(400)
    asked: list[int | None] = []

    def revise(error: ProviderError) -> bool:
        asked.append(error.status)
        return len(asked) == 1

    result, steps = run([refused, ok], revise=revise, attempts=0)
    assert result is ok
    assert steps == [SEND, ReadError(refused), SEND]
    assert asked == [400]


def test_when_no_revision_is_answered_the_first_refusal_is_raised() -> None:
    first, second = Response(422), Response(400)
    result, steps = run([first, second], revise=lambda error: error.status == 422, attempts=3)
    assert isinstance(result, ServerError)
    assert result.status == 422
    assert steps == [SEND, ReadError(first), SEND, ReadError(second)]


def test_an_answer_ends_the_loop_at_once() -> None:
    ok = Response(200)
    assert run([ok]) == (ok, [SEND])


def test_failures_are_retried_then_the_answer_returned() -> None:
    ok, busy = Response(200), Response(503)
    result, steps = run([ServiceConnectionError("refused"), busy, ok], attempts=2, backoff=1)
    assert result is ok
    assert steps == [SEND, Sleep(0.5), SEND, ReadError(busy), Sleep(1.0), SEND]


def test_the_last_failure_is_raised_when_attempts_are_spent() -> None:
    busy = Response(503)
    result, steps = run([busy, busy], attempts=1)
    assert isinstance(result, ServerError)
    assert result.status == 503
    assert steps.count(SEND) == 2


def test_a_final_failure_is_raised_without_a_retry() -> None:
    result, steps = run([Response(401)], attempts=3)
    assert isinstance(result, ServerError)
    assert steps == [SEND, ReadError(steps[1].response)]


def test_a_request_that_cannot_be_built_is_a_config_error_and_never_retried() -> None:
    with pytest.raises(ConfigError):
        run([ConfigError("bad url")], attempts=3)


def test_a_first_attempt_made_by_the_driver_is_decided_by_the_same_loop() -> None:
    """The drivers send the first attempt themselves (an answer then costs no loop) and hand
    its outcome to the loop, which decides as if it had sent it."""
    busy, ok = Response(503), Response(200)
    outcomes = iter([ok])
    steps: list[Any] = []

    def do(step: Any) -> Any:
        steps.append(step)
        return (
            next(outcomes) if step is SEND else (b"busy" if isinstance(step, ReadError) else None)
        )

    rule = RetryPolicy(Retries(attempts=1), deadlines(Clock()), random=lambda: 0.0)
    loop = attempts(rule, lambda r, b: ServerError("busy", status=r.status_code), busy)
    assert drive(loop, do) is ok
    assert steps == [ReadError(busy), Sleep(0.25), SEND]
    assert answered(ok)
    assert not answered(busy)
    assert not answered(ServiceConnectionError("x"))
