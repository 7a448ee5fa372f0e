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
    log_prior: Array, items: list[Evidence]
) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """For every row: (evidence for, evidence against), strongest first."""
    rows = len(log_prior)
    ratios = [likelihood_ratios(log_prior, item) for item in items]
    fors: list[list[dict[str, Any]]] = [[] for _ in range(rows)]
    againsts: list[list[dict[str, Any]]] = [[] for _ in range(rows)]
    for item, lr in zip(items, ratios, strict=True):
        for i in range(rows):
            r = float(lr[i])
            entry = {"field": item.field, "value": item.value, "lr": round(r, 2), "text": item.text}
            if r >= LR_SHOWN:
                fors[i].append(entry)
            elif r <= 1 / LR_SHOWN:
                againsts[i].append(entry)
    for i in range(rows):
        fors[i] = sorted(fors[i], key=lambda e: -float(e["lr"]))[:MAX_ITEMS]
        againsts[i] = sorted(againsts[i], key=lambda e: float(e["lr"]))[:MAX_ITEMS]
    return fors, againsts
