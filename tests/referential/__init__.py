"""Tests of ntc_jury.referential; small helpers shared by its test modules."""

from __future__ import annotations

import copy
from functools import cache

import yaml
from sqlalchemy import func, select

from ntc_jury.extensions import db
from ntc_jury.models import (
    Ccp,
    Certification,
    Competency,
    CompetencyModality,
    Criterion,
    Modality,
    Phase,
    PhaseCompetency,
    SessionFormat,
    TransversalCompetency,
    TransversalLink,
)
from tests.conftest import MINI_YAML, NTC_YAML

REFERENTIAL_MODELS = (
    Certification,
    Modality,
    Ccp,
    Competency,
    Criterion,
    CompetencyModality,
    TransversalCompetency,
    TransversalLink,
    SessionFormat,
    Phase,
    PhaseCompetency,
)


def row_counts() -> dict[str, int]:
    """Rows in every referential table, by table name."""
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in REFERENTIAL_MODELS
    }


@cache
def _parsed(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def mini_data() -> dict:
    """A fresh, mutable copy of the parsed mini referential."""
    return copy.deepcopy(_parsed(MINI_YAML))


def ntc_data() -> dict:
    """A fresh, mutable copy of the parsed NTC referential."""
    return copy.deepcopy(_parsed(NTC_YAML))
