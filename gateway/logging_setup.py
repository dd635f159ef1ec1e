"""Logging: structlog over the standard library, plain text for a console, JSON lines for
collectors, and nothing secret in either.

Every line, whether it comes from `structlog.get_logger()` or a plain `logging.getLogger()`,
goes through the same processors:

- the context bound for the current request or delivery (`request_id` from
  `X-Request-Id`, `delivery_id`, `destination`, …; see `log_context`), and
  `extra={...}` fields of standard-library calls;
- **redaction** (`redact`): API keys (`gw_<key id>_<secret>` keeps its key id only),
  `Authorization`/`X-API-Key` values and Bearer tokens, PEM private keys, fields named like
  secrets (password, secret, token, api_key, private_key, authorization, cookie), and full
  resident ID numbers (GB 11643, 18 characters: only the first 6 and the last 4 remain).
  Exception tracebacks are redacted too.

`configure_logging(level, as_json)` is called once by each entry point (`gateway run`,
`serve`, `worker`, `scheduler`); `GATEWAY_LOG_JSON=true` selects JSON.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import structlog

REDACTED = "[REDACTED]"
SECRET_FIELDS = re.compile(r"(pass(word)?|secret|token|api[_-]?key|private[_-]?key|authorization|cookie|credential)",
                           re.IGNORECASE)
_API_KEY = re.compile(r"\bgw_([0-9a-f]{12})_[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_AUTH_HEADER = re.compile(r"(?i)((?:authorization|x-api-key|cookie)[\"']?\s*[:=]\s*[\"']?)[^\"',;\s}]+(\s+[^\"',;\s}]+)?")
_PEM_PRIVATE = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|$)", re.DOTALL)
# GB 11643 resident ID: division (first digit 1-8), birth date 18/19/20yyMMdd, sequence, check
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-8]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])(?![0-9A-Za-z])"
)


def redact_text(text: str) -> str:
    """Mask secrets and full ID numbers in one string."""
    if not text:
        return text
    text = _PEM_PRIVATE.sub("[REDACTED PRIVATE KEY]", text)
    text = _API_KEY.sub(lambda m: f"gw_{m.group(1)}_{REDACTED}", text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(2)[-4:], text)


def _redact_value(key: str | None, value: Any, depth: int = 0) -> Any:
    if key is not None and SECRET_FIELDS.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redact_value(None, v, depth + 1) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact_text(str(value))


def redact(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no secret, key or full ID number leaves the process."""
    return {k: (v if k in ("level", "logger", "timestamp") else _redact_value(k if k != "event" else None, v))
            for k, v in event_dict.items()}


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Bind fields (delivery_id, destination, bulletin_id, request_id, …) to every line logged
    inside the block, in this thread or task (contextvars)."""
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in values.items() if v is not None}):
        yield


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def build_formatter(as_json: bool) -> logging.Formatter:
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if as_json
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", as_json: bool = False, stream: Any = None) -> None:
    """Route the standard library and structlog through the same processors to `stream`
    (stderr by default). Idempotent; replaces the root handlers."""
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(build_formatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO (the runner ticks every few seconds)
    # and httpx every request: operators want our own lines, not theirs
    for name in ("apscheduler", "httpx"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # uvicorn's loggers keep their own handlers unless told otherwise: send them through ours
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
