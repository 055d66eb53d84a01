"""Generated training rows: template families, SBIC's stated stereotypes, identity swaps.

`generate` adds them to the loaded frame, in the train split only, each family as its own
`source` (so source balancing weighs a family like one dataset). A generated row is dropped
when its text is also a validation, test or behavioural-suite text (by `dedupe_key`, and
exactly for texts with no letters or digits): thresholds and the reported figures never see
a row the generator wrote, and the suite is never trained on.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from training.augment.families import FAMILIES, Row, styled
from training.augment.narratives import FRIENDLY, NARRATIVES
from training.augment.perturb import misspell
from training.augment.stereotypes import stereotype_rows
from training.augment.swaps import swap_rows
from training.datasets.dedupe import dedupe_key
from training.datasets.reading import finish, text_id

PREFIX = "generated-"
SPLIT_BASIS = "generated: train only"
# Hateful generated rows copied with a typo: enough to teach robustness to one edit, few
# enough that misspelt copies do not outnumber the sentences they copy.
TYPO_SHARE = 0.2
DILUTION_ROWS = 800
SWAP_LIMIT = 6000


@dataclass(frozen=True)
class GenerationReport:
    """Rows added per source and rows dropped because the text is held out."""

    added: dict[str, int] = field(default_factory=dict)
    dropped_held_out: int = 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for the manifest."""
        return {"added": dict(self.added), "dropped_held_out": self.dropped_held_out}


def is_generated(source: str) -> bool:
    """Whether a source name is one of the generated families (no dataset files behind it)."""
    return source.startswith(PREFIX) or source == STATEMENTS_SOURCE


STATEMENTS_SOURCE = "sbic-statements"


def generate(
    frame: pd.DataFrame,
    data_dir: Path,
    *,
    seed: int,
    held_out_texts: Collection[str] = (),
    include_sbic: bool = True,
) -> tuple[pd.DataFrame, GenerationReport]:
    """`frame` plus generated train rows (see the module docstring).

    `held_out_texts` are texts no generated row may repeat (the behavioural suite's).
    """
    rng = random.Random(seed)
    rows: list[Row] = []
    for family in (*FAMILIES, *NARRATIVES):
        rows.extend(family(rng))
    rows.extend(_typo_copies(rng, rows))
    rows.extend(_diluted(rng, rows))
    generated = pd.DataFrame(
        {
            "text": [r.text for r in rows],
            "source": [PREFIX + r.family for r in rows],
            "hate": [r.hate for r in rows],
            "toxic": [r.toxic for r in rows],
            "conspiracy": [r.conspiracy for r in rows],
            "group": [r.group for r in rows],
        }
    )
    parts = [generated]
    if include_sbic:
        statements = stereotype_rows(data_dir, rng).assign(source=STATEMENTS_SOURCE)
        parts.append(statements.drop(columns=["kind"]))
    labelled = frame[(frame["split"] == "train") & frame["hate"].notna() & ~frame["eval_only"]]
    labelled = labelled[~labelled["source"].map(is_generated)]
    swapped = swap_rows(labelled, rng, limit=SWAP_LIMIT)
    parts.append(swapped.drop(columns=["origin"]).assign(source=PREFIX + "swap"))
    new = pd.concat(parts, ignore_index=True)

    held = frame[frame["split"].isin(("val", "test"))]["text"].tolist() + list(held_out_texts)
    held_keys = {key for key in map(dedupe_key, held) if key}
    held_exact = {text.strip() for text in held}
    keys = new["text"].map(dedupe_key)
    leaked = keys.isin(held_keys) | new["text"].str.strip().isin(held_exact)
    new = new.loc[~leaked]
    new = new.loc[~(new["source"] + "\x1f" + keys.loc[new.index]).duplicated()]
    new = new.assign(
        split="train",
        split_basis=SPLIT_BASIS,
        doc_id=new["text"].map(text_id),
        hate_target=new["group"].where(new["hate"].eq(1.0)),
    )
    parts_out = [finish(group, source=str(source)) for source, group in new.groupby("source")]
    combined = pd.concat([frame, *parts_out], ignore_index=True)
    report = GenerationReport(
        added={str(s): int(n) for s, n in new["source"].value_counts().sort_index().items()},
        dropped_held_out=int(leaked.sum()),
    )
    return combined, report


def _typo_copies(rng: random.Random, rows: list[Row]) -> list[Row]:
    out = []
    for row in rows:
        if row.hate == 1.0 and rng.random() < TYPO_SHARE:
            text = misspell(rng, row.text, words=rng.choice((1, 1, 2)))
            if text is not None and text != row.text:
                out.append(Row(text, "typo", row.hate, row.toxic, row.conspiracy, row.group))
    return out


def _diluted(rng: random.Random, rows: list[Row]) -> list[Row]:
    """A friendly or on-topic opening before a hateful sentence: still hate."""
    openers = (
        *FRIENDLY,
        "Interesting article.",
        "I read this on the train this morning.",
        "Good point about the budget.",
        "The photos are great.",
        "Not sure about the new bus route.",
        "Nice write-up on the match.",
        "Thanks for covering this.",
        "I live near there.",
    )
    hateful = [r for r in rows if r.hate == 1.0 and r.family != "typo"]
    out = []
    for _ in range(DILUTION_ROWS):
        row = rng.choice(hateful)
        text = styled(rng, f"{rng.choice(openers)} {row.text}")
        out.append(Row(text, "dilution", row.hate, row.toxic, row.conspiracy, row.group))
    return out
