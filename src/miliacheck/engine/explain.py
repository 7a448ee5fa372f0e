"""Why each listed condition is or is not likely: evidence with its likelihood ratio.

``lr`` = P(value | condition) / P(value | not condition), where "not condition" is the
other rows weighted by their prior (the case format's definition).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from miliacheck.engine.evidence import Evidence
from miliacheck.kb.load import Array

LR_SHOWN = 1.5  # an item moves the odds by at least half again to be shown
MAX_ITEMS = 6


def likelihood_ratios(log_prior: Array, item: Evidence) -> Array:
    """LR of ``item`` for every row, against the prior-weighted rest."""
    prior = np.exp(log_prior)
    lik = np.exp(item.loglik)
    total = float(prior @ lik)
    others = (total - prior * lik) / np.maximum(1.0 - prior, 1e-12)
    out: Array = lik / np.maximum(others, 1e-300)
    return out


def explain(
    log_prior: Array, items: list[Evidence], rows: list[int]
) -> dict[int, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """For each of ``rows``: (evidence for, evidence against), strongest first."""
    ratios = [likelihood_ratios(log_prior, item) for item in items]
    out: dict[int, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for i in rows:
        fors: list[dict[str, Any]] = []
        againsts: list[dict[str, Any]] = []
        for item, lr in zip(items, ratios, strict=True):
            r = float(lr[i])
            if r >= LR_SHOWN or r <= 1 / LR_SHOWN:
                entry = {
                    "field": item.field,
                    "value": item.value,
                    "lr": round(r, 2),
                    "text": item.text,
                }
                (fors if r >= LR_SHOWN else againsts).append(entry)
        fors.sort(key=lambda e: -float(e["lr"]))
        againsts.sort(key=lambda e: float(e["lr"]))
        out[i] = (fors[:MAX_ITEMS], againsts[:MAX_ITEMS])
    return out
