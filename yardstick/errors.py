"""The orchestration's own domain errors; the base class and the sources' errors live in `ingestion.errors`."""

from __future__ import annotations

from ingestion.errors import YardstickError


class QualityGateFailed(YardstickError):
    """A data-quality gate failed; nothing is published."""


class BuildFailed(YardstickError):
    """dbt could not build or test the project."""
