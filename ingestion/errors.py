"""Domain errors (layer 0, stdlib only): each carries a one-line message the CLI prints as the reason for a
non-zero exit. Sources, the pipeline and the orchestration all raise these; `yardstick.errors` adds the
orchestration's own (quality gate, build) on top of `YardstickError`."""

from __future__ import annotations


class YardstickError(Exception):
    """Base class for failures that deserve a clear one-line message rather than a traceback."""


class TokenRejected(YardstickError):
    """An API answered 401 to our credentials."""


class SourceError(YardstickError):
    """An API answered with an error we could not recover from (after retries)."""


class PayloadError(YardstickError):
    """A record from a source does not have the shape we rely on (missing field, wrong type, unknown value)."""

    def __init__(self, source: str, endpoint: str, record_id: object, problem: str) -> None:
        self.source, self.endpoint, self.record_id, self.problem = source, endpoint, record_id, problem
        super().__init__(f"{source}: bad record {record_id!r} from {endpoint}: {problem}")


def find_domain_error(exc: BaseException) -> YardstickError | None:
    """Return the first YardstickError in an exception's cause/context chain (dlt wraps source errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, YardstickError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
