"""Does a set of passages support one claim? `supported`, `contradicted` or `not_enough_info`.

claim + passage texts -> Verdict(label, score, reason)

No NLI model ships offline, so the default `SignalVerifier` combines the signals there are
(see its docstring). `NLIVerifier` runs a real entailment model (any transformers
text-classification model id or path) for users who have one. Evaluation, the evaluator tab
and the newsroom briefing all go through the `Verifier` interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal, Sequence

VerdictLabel = Literal["supported", "contradicted", "not_enough_info"]
VERDICT_LABELS: tuple[VerdictLabel, ...] = ("supported", "contradicted", "not_enough_info")


@dataclass(frozen=True)
class Verdict:
    label: VerdictLabel
    score: float  # confidence in `label`, 0..1
    reason: str | None = None  # the signal that decided, e.g. "number 600 not in the passages"

    def to_dict(self) -> dict:
        return {"label": self.label, "score": round(self.score, 4), "reason": self.reason}


class Verifier(ABC):
    """Judges one claim (a sentence, without `[n]` markers) against passage texts."""

    name: str = "verifier"

    @abstractmethod
    def verify(self, claim: str, passages: Sequence[str]) -> Verdict: ...


def make_verifier(settings, embedder=None, generator=None) -> Verifier:
    """The verifier `settings.verifier` names; `embedder`/`generator` are the pipeline's
    (loaded on first use when not given)."""
    raise NotImplementedError  # filled in by the signal verifier commit
