"""What a failure means for the record behind it: retry (it can heal) or dead-letter (it cannot).

Pure: no I/O. The batch loop (:mod:`shared.agent`) asks :func:`classify` about
every exception a handler or the producer raised:

- ``None``: a dependency is unreachable or slow (Redis or the broker down, a
  request timeout, a leader election, an authorisation the operator can fix).
  Retrying the same work later can succeed, so the batch is retried with
  back-off and its offsets stay uncommitted.
- a :class:`Failure` (a stable ``code`` and a message): retrying the same
  record can never succeed (an output over the size limit, a record the broker
  rejects, a serialisation error, a library panic, an article over its time
  budget, a bug). The record becomes a dead letter with that code and the
  partition moves on.

:func:`is_fatal` names the exceptions that must never be swallowed
(cancellation, interpreter exit); everything else, ``BaseException``
subclasses that native libraries raise included (pyo3's ``PanicException``),
is classified.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from aiokafka import errors as kafka_errors
from redis import exceptions as redis_errors

__all__ = [
    "ENRICH_TIMEOUT",
    "INTERNAL_ERROR",
    "LIBRARY_PANIC",
    "OUTPUT_TOO_LARGE",
    "REJECTED_BY_BROKER",
    "SERIALIZATION_ERROR",
    "BudgetExceeded",
    "Failure",
    "classify",
    "describe",
    "is_fatal",
]

OUTPUT_TOO_LARGE: Final = "output_too_large"
"""An output record over the producer's or the broker's size limit."""
REJECTED_BY_BROKER: Final = "rejected_by_broker"
"""The broker refused the record for a reason that retrying cannot change (an invalid record)."""
SERIALIZATION_ERROR: Final = "serialization_error"
"""The output could not be encoded (JSON, UTF-8)."""
LIBRARY_PANIC: Final = "library_panic"
"""A native library aborted on this input (a Rust panic surfacing as ``PanicException``)."""
ENRICH_TIMEOUT: Final = "enrich_timeout"
"""An article over its per-article time budget."""
INTERNAL_ERROR: Final = "internal_error"
"""A bug: the record is kept with the exception."""

_MAX_MESSAGE = 500


class BudgetExceeded(Exception):
    """A unit of work ran over its time budget (deliberately not a ``TimeoutError``: it does not heal)."""


@dataclass(frozen=True)
class Failure:
    """Why a record is a dead letter: a stable code and a message a person can act on."""

    code: str
    message: str


# Broker errors that heal without touching the record: leadership moves, brokers restart, an operator
# fixes an ACL or a quota. aiokafka marks most of them ``retriable``; these it does not.
_HEALING_KAFKA: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.BrokerNotAvailableError,
    kafka_errors.ReplicaNotAvailableError,
    kafka_errors.ProducerClosed,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.AuthenticationFailedError,
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.QuotaViolationError,
)
_TOO_LARGE_KAFKA: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
)
# Redis answers that mean "not now" rather than "never".
_HEALING_REDIS_PREFIXES = ("LOADING", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "OOM", "BUSY", "NOREPLICAS")
_FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


def is_fatal(exc: BaseException) -> bool:
    """Cancellation and interpreter exit: re-raise, never turn into a dead letter."""
    return isinstance(exc, _FATAL)


def describe(exc: BaseException) -> str:
    """``Type: message``, cut to a length that fits in a dead letter."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def classify(exc: BaseException) -> Failure | None:
    """``None`` when retrying can heal ``exc``; else the dead letter's code and message.

    Raises nothing; call :func:`is_fatal` first for the exceptions to re-raise.
    """
    if isinstance(exc, BudgetExceeded):
        return Failure(ENRICH_TIMEOUT, describe(exc))
    if isinstance(exc, kafka_errors.KafkaError):
        if isinstance(exc, _TOO_LARGE_KAFKA):
            return Failure(OUTPUT_TOO_LARGE, describe(exc))
        if exc.retriable or isinstance(exc, _HEALING_KAFKA):
            return None
        return Failure(REJECTED_BY_BROKER, describe(exc))
    if isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError):
        return None  # BusyLoadingError (Redis loading its data) is a ConnectionError
    if isinstance(exc, redis_errors.ResponseError) and str(exc).upper().startswith(_HEALING_REDIS_PREFIXES):
        return None
    if isinstance(exc, OSError | asyncio.TimeoutError):  # ConnectionRefusedError, TimeoutError, ...
        return None
    if _is_database_outage(exc):
        return None
    if type(exc).__name__ == "PanicException":  # pyo3_runtime.PanicException: a BaseException
        return Failure(LIBRARY_PANIC, describe(exc))
    if isinstance(exc, UnicodeError) or type(exc).__name__ in (
        "JSONEncodeError",
        "PydanticSerializationError",
    ):
        return Failure(SERIALIZATION_ERROR, describe(exc))
    return Failure(INTERNAL_ERROR, describe(exc))


def _is_database_outage(exc: BaseException) -> bool:
    """PostgreSQL unreachable, restarting, in recovery, or a transaction to retry (a deadlock, a
    serialisation failure): ``psycopg.OperationalError`` and the pool's ``PoolTimeout`` (one of them).
    Checked by name so a service without the archive does not import psycopg."""
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] == "psycopg" and cls.__name__ == "OperationalError":
            return True
    return False
