"""The next question: the red-flag screen first, then the most informative question.

Information is the expected fall in the entropy (bits) of the posterior over conditions.
The interview stops when one condition is confident, when no question is worth its
time, or at the cap; it does not stop while a must-not-miss condition lies between its
rule-out and act thresholds and an unasked question still separates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from miliacheck.engine.case import DAYS_PER_YEAR, Case
from miliacheck.engine.evidence import colour_seen, profile_posterior
from miliacheck.engine.rules import holds
from miliacheck.engine.triage import (
    LEVEL_RANK,
    act_threshold,
    decide,
    floor_reasons,
    is_must_not_miss,
    usual_care,
)
from miliacheck.kb.load import Array, KnowledgeBase, Tables
from miliacheck.kb.schema import Finding, QuestionGroup, QuestionSpec, Sourced

NONE_OPTION = "None of these"


@dataclass(frozen=True)
class Candidate:
    spec: dict[str, Any]  # the question, as the result shows it (without progress)
    table: Array  # (K, V) P(answer v | row)
    known: float = 1.0  # P(the person can answer it): "don't know" tells nothing

    def gain(self, post: Array, weights: Array | None = None) -> float:
        """Expected information of asking: the gain of an answer times the chance of one."""
        return self.known * expected_gain(post, self.table, weights)


def unscreened(kb: KnowledgeBase, case: Case) -> list[str]:
    """Red-flag finding paths relevant to this case and not yet answered, in screen order."""
    out: list[str] = []
    for group in kb.triage.screen:
        if holds(group.when, case):
            for fid in group.fields:
                path = f"findings.{fid}"
                if not case.answered(path) and path not in out:
                    out.append(path)
    return out


def screen_question(kb: KnowledgeBase, case: Case, pending: list[str]) -> dict[str, Any]:
    """One grouped ``multi`` question for every pending red flag."""
    group = next(
        g
        for g in kb.triage.screen
        if holds(g.when, case) and any(f"findings.{f}" in pending for f in g.fields)
    )
    labels = kb.findings.findings
    return {
        "id": group.id,
        "text": group.text,
        "help": group.help,
        "type": "multi",
        "fields": pending,
        "options": [{"value": p, "label": labels[p[9:]].label} for p in pending],
        "none_option": NONE_OPTION,
        "unit": None,
        "min": None,
        "max": None,
        "red_flag": True,
        "why": group.why,
    }


def _field_question(kb: KnowledgeBase, q: QuestionSpec) -> dict[str, Any]:
    if q.options_from == "locations":
        options = [{"value": k, "label": v} for k, v in kb.questions.locations["labels"].items()]
    else:
        options = [{"value": o.value, "label": o.label} for o in q.options]
    return {
        "id": q.id,
        "text": q.text,
        "help": q.help,
        "type": q.type,
        "fields": list(q.fields),
        "options": options,
        "none_option": None,
        "unit": q.unit,
        "min": q.min,
        "max": q.max,
        "red_flag": False,
        "why": q.why,
    }


def _region_first(
    kb: KnowledgeBase, question: dict[str, Any], regions: tuple[str, ...]
) -> dict[str, Any]:
    """The places question after the words named a part of the body ("on my face"): that
    part's sites first, and the help says so. Every place stays on offer."""
    if not regions:
        return question
    named = [kb.questions.regions[r] for r in regions]
    sites = {s for region in named for s in region.sites}
    options = sorted(question["options"], key=lambda o: o["value"] not in sites)
    said = " and ".join(region.where for region in named)
    help_ = f"You said the bumps are {said}: tick each place there, and any others. "
    return {**question, "options": options, "help": help_ + question["help"]}


def grouped(kb: KnowledgeBase) -> dict[str, QuestionGroup]:
    """Each finding asked within a group, with its group."""
    return {m.finding: g for g in kb.questions.groups for m in g.members}


def group_open(group: QuestionGroup, case: Case) -> list[str]:
    """The group's findings offered to this case (their ``when`` holds) and not yet answered."""
    return [
        m.finding
        for m in group.members
        if holds(m.when, case) and not case.answered(f"findings.{m.finding}")
    ]


def group_question(kb: KnowledgeBase, group: QuestionGroup, open_: list[str]) -> dict[str, Any]:
    """The group as one ``multi`` question over its open findings; one left is a yes/no."""
    if len(open_) == 1:
        return _yes_no(open_[0], kb.findings.findings[open_[0]])
    labels = {m.finding: m.label for m in group.members}
    return {
        "id": group.id,
        "text": group.text,
        "help": group.help,
        "type": "multi",
        "fields": [f"findings.{f}" for f in open_],
        "options": [
            {"value": f"findings.{f}", "label": labels[f] or kb.findings.findings[f].label}
            for f in open_
        ],
        "none_option": NONE_OPTION,
        "unit": None,
        "min": None,
        "max": None,
        "red_flag": False,
        "why": group.why,
        "text_for": dict(group.text_for),
    }


def joint_table(columns: list[Array]) -> Array:
    """P(each combination of yes/no answers | row) for findings independent given the row:
    (K, 2**n), the information of asking them together."""
    table = np.ones((columns[0].shape[0], 1))
    for p in columns:
        yes_no = np.stack([p, 1 - p], axis=1)
        table = (table[:, :, None] * yes_no[:, None, :]).reshape(table.shape[0], -1)
    return table


def candidates(kb: KnowledgeBase, case: Case) -> list[Candidate]:
    """Unanswered non-red-flag questions with their answer tables (locations excluded)."""
    m = kb.model
    t = m.at(case.age_years)
    out: list[Candidate] = []
    # the case's site pattern, computed once for the findings' and the duration's chances
    pi = profile_posterior(kb, case) if t.coupled or t.duration_coupled else None
    tables = {
        "colour": colour_seen(kb, case)[0],
        "count": t.p_count,
        "size_mm": t.p_size,
        "duration_days": _duration_chances(t, pi),
    }
    for q in kb.questions.questions:
        path = q.fields[0]
        if path == "locations" or case.answered(path):
            continue
        out.append(Candidate(_field_question(kb, q), tables[path], _known(q.answerable)))
    in_group = grouped(kb)
    col_of = {fid: col for col, fid in enumerate(m.finding_ids)}
    p_finding = finding_chances(kb, case, pi)
    for fid, col in col_of.items():
        spec = kb.findings.findings[fid]
        if spec.red_flag or spec.advice_only or fid in in_group:
            continue
        if case.answered(f"findings.{fid}"):
            continue
        p = p_finding[:, col]
        table = np.stack([p, 1 - p], axis=1)
        out.append(Candidate(_yes_no(fid, spec), table, _known(spec.answerable)))
    for group in kb.questions.groups:
        if group.ask_last:
            continue  # asked once before stopping (_last_question), never for information
        open_ = group_open(group, case)
        if open_:
            table = joint_table([p_finding[:, col_of[f]] for f in open_])
            out.append(Candidate(group_question(kb, group, open_), table, _known(group.answerable)))
    return out


def finding_chances(kb: KnowledgeBase, case: Case, pi: Array | None = None) -> Array:
    """P(finding present | condition, what the case says of its site pattern): (K, F).

    A finding whose chance differs by site profile (weak immunity in adults' facial
    molluscum) takes the profiles as the case's sites and coupled findings weigh them;
    the rest are the tables'. A group holding two coupled findings would treat them as
    independent given the condition (none does). A finding the case makes harder to see
    (redness on brown or black skin) is the chance it is there and seen."""
    t = kb.model.at(case.age_years)
    seen = kb.model.seen_shares(case.findings)
    if not t.coupled and not seen:
        return t.p_finding
    if pi is None:
        pi = profile_posterior(kb, case)
    out = t.p_finding.copy()
    for col in t.coupled:
        out[:, col] = (pi * t.p_profile_finding[:, :, col]).sum(axis=1)
    for col, share in seen.items():  # what the person will see and report
        out[:, col] *= share
    return out


def _duration_chances(t: Tables, pi: Array | None) -> Array:
    """P(duration bin | condition, what the case says of its pattern ``pi``): (K, D); a
    pattern that lasts differently (a stye days, a chalazion months) weighs in as the
    findings do."""
    if not t.duration_coupled or pi is None:
        return t.p_duration
    out: Array = (pi[:, :, None] * t.p_profile_duration).sum(axis=1)
    return out


def _known(answerable: Sourced | None) -> float:
    return 1.0 if answerable is None else answerable.p


def entropy_bits(p: Array) -> float:
    q = p[p > 0]
    return float(-(q * np.log2(q)).sum())


def expected_gain(post: Array, table: Array, weights: Array | None = None) -> float:
    """Expected entropy fall of ``post`` (or of a grouping by ``weights``) for one question."""
    joint = post[:, None] * table  # (K, V)
    p_answer = joint.sum(axis=0)
    if weights is None:
        before = entropy_bits(post)
        after = 0.0
        for v in range(table.shape[1]):
            if p_answer[v] > 0:
                after += p_answer[v] * entropy_bits(joint[:, v] / p_answer[v])
        return before - after
    # Binary grouping: the must-not-miss condition against the rest.
    p_c = float(weights @ post)
    before = _h2(p_c)
    after = 0.0
    for v in range(table.shape[1]):
        if p_answer[v] > 0:
            after += p_answer[v] * _h2(float(weights @ joint[:, v]) / p_answer[v])
    return before - after


def _h2(p: float) -> float:
    if p <= 0 or p >= 1:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def answered_questions(kb: KnowledgeBase, case: Case) -> int:
    """Non-red-flag questions already answered (given in the case or asked); a group counts
    once however many of its findings are answered."""
    n = sum(1 for q in kb.questions.questions if case.answered(q.fields[0]))
    in_group = grouped(kb)
    for fid, spec in kb.findings.findings.items():
        if spec.red_flag or spec.advice_only or fid in in_group:
            continue
        if case.answered(f"findings.{fid}"):
            n += 1
    for group in kb.questions.groups:
        if any(case.answered(f"findings.{m.finding}") for m in group.members):
            n += 1
    return n


def next_question(kb: KnowledgeBase, case: Case, post: Array) -> dict[str, Any] | None:
    """The single most useful next question, or None when the interview should stop."""
    pending = unscreened(kb, case)
    asked = answered_questions(kb, case)
    if pending:
        question = screen_question(kb, case, pending)
        return _with_progress(question, asked, 1 + _remaining(kb, post, asked))
    if not case.answered("locations"):
        q = next(q for q in kb.questions.questions if q.fields[0] == "locations")
        where = _region_first(kb, _field_question(kb, q), case.regions)
        return _with_progress(where, asked, 1 + _remaining(kb, post, asked))
    cap = kb.manifest.limits.max_questions
    if asked >= cap:
        return None
    th = kb.manifest.thresholds
    cands = candidates(kb, case)
    if not cands:
        return _last_question(kb, case, asked)
    gains = [c.gain(post) for c in cands]
    best = int(np.argmax(gains))
    confident = float(post[:-1].max()) >= th.confident_stop.p
    if (
        not confident
        and gains[best] >= th.min_information_gain.p
        and _may_change_the_result(kb, case, post, cands)
    ):
        return _with_progress(cands[best].spec, asked, _remaining(kb, post, asked))
    # About to stop: first make sure no must-not-miss condition is left in between, then
    # that no condition needing more care than the leading one is left in between.
    ids = kb.model.ids
    in_between: list[int] = []
    for i, cid in enumerate(ids[:-1]):
        cond = kb.conditions[cid]
        if not is_must_not_miss(cond, case):
            continue
        if th.must_not_miss_rule_out.p <= float(post[i]) < act_threshold(kb, cond, case):
            in_between.append(i)
    if th.care_change_floor is not None:
        lead = kb.conditions[ids[int(np.argmax(post[:-1]))]]
        lead_rank = LEVEL_RANK[usual_care(lead, case).level]
        for i, cid in enumerate(ids[:-1]):
            cond = kb.conditions[cid]
            if i in in_between or LEVEL_RANK[usual_care(cond, case).level] <= lead_rank:
                continue
            if th.care_change_floor.p <= float(post[i]) < act_threshold(kb, cond, case):
                in_between.append(i)
    for i in in_between:
        weights = np.zeros(len(ids))
        weights[i] = 1.0
        sep = [c.gain(post, weights) for c in cands]
        j = int(np.argmax(sep))
        if sep[j] >= th.separating_gain.p:
            return _with_progress(cands[j].spec, asked, 1)
    escalating = _escalation_question(kb, case, post)
    if escalating is not None:
        return _with_progress(escalating, asked, 1)
    onset = _onset_question(kb, case)
    if onset is not None:
        return _with_progress(onset, asked, 1)
    return _last_question(kb, case, asked)


def _onset_question(kb: KnowledgeBase, case: Case) -> dict[str, Any] | None:
    """Before stopping: how long the bumps have been there, when a floor holds only because
    that is unknown (a baby's pus spots that may have begun after the first week: the
    answer may show they began in the first days) and the floors would be lower if the
    bumps had been there since birth (another floor, such as a contact's cold sore, may
    already set the level)."""
    if case.answered("duration_days"):
        return None
    if not any(r.when.began_from_day is not None and holds(r.when, case) for r in kb.triage.floors):
        return None
    since_birth = replace(case, duration_days=case.age_years * DAYS_PER_YEAR)
    if decide(floor_reasons(kb, since_birth))[0] == decide(floor_reasons(kb, case))[0]:
        return None
    spec = next(q for q in kb.questions.questions if q.fields[0] == "duration_days")
    return _field_question(kb, spec)


def _may_change_the_result(
    kb: KnowledgeBase, case: Case, post: Array, cands: list[Candidate]
) -> bool:
    """Whether some question's answer has the manifest's ``decision_change`` chance (times
    the chance of an answer) of changing the three conditions shown or the level the
    differential sets (each condition from its act threshold, at its usual level or that
    of an escalation the case meets). Information that moves
    neither is not worth a question; the stopping guards still ask what separates a
    must-not-miss or higher-care condition."""
    floor = kb.manifest.thresholds.decision_change
    if floor is None:
        return True
    # as triage's differential_reasons: a condition acts from its act threshold and sets
    # its usual level, or the level of an escalation of it that the case meets
    conds = [kb.conditions[c] for c in kb.model.ids[:-1]]
    acts = np.array([act_threshold(kb, c, case) for c in conds])
    ranks = np.array(
        [
            max(
                [
                    LEVEL_RANK[usual_care(c, case).level],
                    *(LEVEL_RANK[r.level] for r in c.escalate if holds(r.when, case)),
                ]
            )
            for c in conds
        ]
    )

    def result(p: Array) -> tuple[Any, Any]:  # (sorted top three, level) per column
        top3 = np.sort(np.argsort(-p[:-1], axis=0, kind="stable")[:3], axis=0)
        level = np.where(p[:-1] >= acts[:, None], ranks[:, None], 0).max(axis=0)
        return top3, level

    top_now, level_now = result(post[:, None])
    for cand in cands:
        joint = post[:, None] * cand.table
        p_answer = joint.sum(axis=0)
        seen = p_answer > 0
        top3, level = result(joint[:, seen] / p_answer[seen])
        changed = (top3 != top_now).any(axis=0) | (level != level_now)
        if cand.known * float(p_answer[seen][changed].sum()) >= floor.p:
            return True
    return False


def _escalation_question(kb: KnowledgeBase, case: Case, post: Array) -> dict[str, Any] | None:
    """Before stopping: a finding that is the one unknown piece of an escalation rule of a
    condition likely enough to set the level (a painful cyst: is the skin around it red?
    Painful and red is 'soon'), so the care level is not left on an unasked question."""
    ids = kb.model.ids
    threshold = kb.manifest.thresholds.differential.p
    for i in np.argsort(-post[:-1]):
        if float(post[i]) < threshold:
            break
        cond = kb.conditions[ids[int(i)]]
        for rule in cond.escalate:
            named = [*rule.when.findings_true, *rule.when.any_findings_true]
            if not named:
                continue
            open_ = [f for f in rule.when.findings_true if not case.answered(f"findings.{f}")]
            rest = [f for f in rule.when.findings_true if f not in open_]
            any_ok = not rule.when.any_findings_true or any(
                case.findings.get(f) is True for f in rule.when.any_findings_true
            )
            if len(open_) != 1 or not any_ok or not all(case.findings.get(f) for f in rest):
                continue
            spec = kb.findings.findings[open_[0]]
            if spec.red_flag or spec.advice_only:
                continue  # red flags are the screen's; advice-only findings ask last
            as_if = replace(case, findings={**case.findings, open_[0]: True})
            if holds(rule.when, as_if):
                group = grouped(kb).get(open_[0])
                if group is None:
                    return _yes_no(open_[0], spec)
                members = group_open(group, case)
                if open_[0] in members:  # asked with the rest of its group, counted once
                    return group_question(kb, group, members)
    return None


def _last_question(kb: KnowledgeBase, case: Case, asked: int) -> dict[str, Any] | None:
    """Asked once before stopping: a group marked ``ask_last`` (distress, a treatment that
    has not helped) while a member is open; one member left is a yes/no."""
    for group in kb.questions.groups:
        if not group.ask_last:
            continue
        members = group_open(group, case)
        if members:
            return _with_progress(group_question(kb, group, members), asked, 1)
    return None


def _yes_no(fid: str, spec: Finding) -> dict[str, Any]:
    return {
        "id": f"q_{fid}",
        "text": spec.question,
        "help": spec.help,
        "type": "yes_no",
        "fields": [f"findings.{fid}"],
        "options": [{"value": True, "label": "Yes"}, {"value": False, "label": "No"}],
        "none_option": None,
        "unit": None,
        "min": None,
        "max": None,
        "red_flag": False,
        "why": spec.why,
        "text_for": dict(spec.question_for),
    }


def _remaining(kb: KnowledgeBase, post: Array, asked: int) -> int:
    cap = kb.manifest.limits.max_questions
    h = entropy_bits(post)
    return max(0, min(cap - asked, math.ceil(h / 0.6)))


def _with_progress(q: dict[str, Any], asked: int, remaining: int) -> dict[str, Any]:
    return {**q, "progress": {"asked": asked, "remaining_estimate": max(remaining, 1)}}
