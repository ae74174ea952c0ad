"""The HTTP kit: everything an HTTP provider shares, written once.

- :class:`HTTPProvider` and :class:`HTTPOptions`: the base class and options of every HTTP
  provider (targets, pools, credentials, headers, error mapping, limits, lifecycle);
- :class:`HTTPExchange` and :class:`HTTPOperation`: one request streamed into fragments, and a
  :data:`Flow` of requests, each run synchronously or asynchronously over httpx;
- :class:`Timeouts`, :class:`Retries`, :class:`Deadlines`, :class:`RetryPolicy`: the deadline
  and retry policy, pure, with the clock and the randomness as arguments;
- :class:`EventParser`, :class:`WholeBodyParser`, :class:`UnexpectedBodyParser`: body parsers
  that deliver what arrived before an error;
- :func:`mask_headers`, :func:`mask_url`, :func:`is_secret_header`, :class:`Scrubber`,
  :func:`check_base_url`, :func:`check_headers`, :func:`is_loopback`,
  :func:`warn_if_key_exposed`: keeping credentials where they belong.

httpx is imported when the first connection pool is built, so options classes import this
package without it.
"""

from jackfield._secret import Scrubber
from jackfield.http._clients import Clients
from jackfield.http._exchange import HTTPExchange
from jackfield.http._operation import HTTPOperation
from jackfield.http._parsers import (
    Decoder,
    EventParser,
    UnexpectedBodyParser,
    WholeBodyParser,
    snippet,
)
from jackfield.http._policy import (
    RETRY_STATUSES,
    Deadlines,
    Retries,
    RetryPolicy,
    Timeouts,
    parse_retry_after,
)
from jackfield.http._pool import Balance, Endpoint, EndpointPool, EndpointStatus
from jackfield.http._provider import HTTPOptions, HTTPProvider
from jackfield.http._requests import (
    BodyParser,
    ErrorMapper,
    Flow,
    HTTPRequest,
    HTTPResult,
    ParserFactory,
    Reviser,
)
from jackfield.http._security import (
    MASK,
    check_base_url,
    check_headers,
    is_loopback,
    is_secret_header,
    mask_headers,
    mask_url,
    warn_if_key_exposed,
)
from jackfield.http._target import KeyHeader, Target, server_url

__all__ = [
    "MASK",
    "RETRY_STATUSES",
    "Balance",
    "Endpoint",
    "EndpointPool",
    "EndpointStatus",
    "BodyParser",
    "Clients",
    "Deadlines",
    "Decoder",
    "ErrorMapper",
    "EventParser",
    "Flow",
    "HTTPExchange",
    "HTTPOperation",
    "HTTPOptions",
    "HTTPProvider",
    "HTTPRequest",
    "HTTPResult",
    "KeyHeader",
    "ParserFactory",
    "Retries",
    "RetryPolicy",
    "Reviser",
    "Scrubber",
    "Target",
    "Timeouts",
    "UnexpectedBodyParser",
    "WholeBodyParser",
    "check_base_url",
    "check_headers",
    "is_loopback",
    "is_secret_header",
    "mask_headers",
    "server_url",
    "mask_url",
    "parse_retry_after",
    "snippet",
    "warn_if_key_exposed",
]
