"""Template families of generated training rows, each with the behaviour it teaches.

The public datasets under-represent what a moderator most needs the heads to get right:
the same group named in hateful and in friendly sentences, hate phrased as a question or an
opinion, negations, threats, counter-speech, antisemitic tropes and code words, conspiracy
claims in one short sentence, and the short friendly comments of a blog. Each family below
writes such sentences from the word lists in `lexicon.py` and says, in its docstring, what a
head would get wrong without it. Rows are drawn with a seeded generator, so a run is
reproducible, and they only ever go to the train split (see `training.augment.generate`).

Labels: hate implies toxic (as in the datasets). A family leaves a head unlabelled (None)
where its sentences say nothing reliable about that head.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from training.augment.lexicon import (
    ATTACKS,
    DEHUMANISING,
    DESERVED,
    GROUPS,
    INSULTS,
    NEGATIVE_ADJECTIVES,
    NEGATIVE_VERBS,
    NEUTRAL_FACTS,
    NON_PROTECTED,
    PLACES,
    POSITIVE_ADJECTIVES,
    POSITIVE_VERBS,
    PREJUDICE,
    PROFANITY,
    QUALITIES,
    REJECTIONS,
    SLURS,
    THREAT_PHRASES,
    VIOLENT_PARTICIPLES,
    VIOLENT_VERBS,
    Group,
)


@dataclass(frozen=True)
class Row:
    """One generated training row."""

    text: str
    family: str
    hate: float | None
    toxic: float | None
    conspiracy: float | None
    group: str | None = None


HATEFUL = {"hate": 1.0, "toxic": 1.0}
BENIGN = {"hate": 0.0, "toxic": 0.0}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def styled(rng: random.Random, text: str) -> str:
    """`text` as people type it: sometimes lower-cased, unpunctuated or emphatic."""
    roll = rng.random()
    if roll < 0.25:
        text = text.lower()
    elif roll < 0.32:
        text = text.upper() if len(text) < 60 else text
    end = rng.random()
    if end < 0.25:
        text = text.rstrip(".")
    elif end < 0.35 and text.endswith("."):
        text = text[:-1] + "!!"
    return text


class Filler:
    """Fills a template's slots from the word lists for one group (or none)."""

    def __init__(self, rng: random.Random, group: Group | None = None) -> None:
        self.rng = rng
        self.group = group

    def __call__(self, template: str, **extra: str) -> str:
        rng, group = self.rng, self.group
        values: dict[str, str] = {
            "neg": rng.choice(NEGATIVE_ADJECTIVES),
            "nv": rng.choice(NEGATIVE_VERBS),
            "pv": rng.choice(POSITIVE_VERBS),
            "pos": rng.choice(POSITIVE_ADJECTIVES),
            "des": rng.choice(DESERVED),
            "dehum": rng.choice(DEHUMANISING),
            "v": rng.choice(VIOLENT_VERBS),
            "pp": rng.choice(VIOLENT_PARTICIPLES),
            "insult": rng.choice(INSULTS),
            "rej": rng.choice(REJECTIONS),
            "np": rng.choice(NON_PROTECTED),
            "q": rng.choice(QUALITIES),
            "attack": rng.choice(ATTACKS),
            "threat": rng.choice(THREAT_PHRASES),
        }
        if group is not None:
            plural = rng.choice(group.plurals)
            values.update(
                p=plural,
                P=_cap(plural),
                adj=group.adjective,
                Adj=_cap(group.adjective),
                m=rng.choice(group.members),
                prejudice=PREJUDICE[group.slug],
                place=rng.choice(PLACES[group.slug]),
            )
        values.update(extra)
        return _cap(template.format(**values))


def _per_group(
    rng: random.Random,
    family: str,
    templates: Sequence[str],
    labels: dict[str, float],
    per_group: int,
    *,
    conspiracy: float | None = None,
    keep_target: bool = True,
) -> list[Row]:
    rows = []
    for group in GROUPS:
        fill = Filler(rng, group)
        for _ in range(per_group):
            text = styled(rng, fill(rng.choice(templates)))
            rows.append(
                Row(
                    text,
                    family,
                    labels["hate"],
                    labels["toxic"],
                    conspiracy,
                    group.slug if keep_target and labels["hate"] == 1.0 else None,
                )
            )
    return rows


def identity_positive(rng: random.Random) -> list[Row]:
    """Warm statements about every group: without them a group's name reads as hate,
    because in the datasets groups are named mostly by people attacking them."""
    templates = (
        "I {pv} {p}.",
        "{P} are {pos}.",
        "I really {pv} {p}, always have.",
        "{P} deserve {des}.",
        "Honestly, {p} are {pos}.",
        "So glad to have {p} in our street.",
        "{P} make this city better.",
        "My {adj} neighbours are {pos}.",
        "We {pv} our {adj} friends.",
        "I think {p} are {pos}.",
        "Why are {p} so {pos}? Genuinely curious, they're great.",
        "Nothing but love for {p}.",
        "Proud to stand with {p} today.",
        "{P} matter.",
        "{Adj} lives matter.",
        "Every {m} I've met has been {pos}.",
        "{P} are welcome here, always.",
    )
    return _per_group(rng, "identity-positive", templates, BENIGN, 60)


def identity_neutral(rng: random.Random) -> list[Row]:
    """Plain mentions of every group (facts, neighbours, news): naming is not attacking."""
    extra = (
        "We have never had a {adj} mayor in this town.",
        "Are there many {p} where you live?",
        "What do {p} think about the new law?",
        "The {adj} vote was split this year.",
        "{P} were interviewed for the report.",
        "I asked a {m} at work about it.",
    )
    return _per_group(rng, "identity-neutral", (*NEUTRAL_FACTS, *extra), BENIGN, 60)


def derogation(rng: random.Random) -> list[Row]:
    """Contempt for a group in plain words, with many verbs and adjectives, so the hostile
    words carry the weight (not the group's name, which the benign families balance)."""
    templates = (
        "{P} are {neg}.",
        "I {nv} {p}.",
        "All {p} are {neg}.",
        "{P} are so {neg}.",
        "I {nv} every single {m}.",
        "{P} are nothing but {neg} people.",
        "Typical {m}, {neg} like the rest of them.",
        "Never trust a {m}, they are all {neg}.",
        "{P} ruin everything they touch.",
        "The world would be better without {p}.",
        "{P} are {neg} and always will be.",
        "I {nv} {p} and I'm not ashamed to say it.",
        "Keep {p} out of our neighbourhood.",
        "{P} are a disease on this country.",
        "{P} should not be allowed to vote.",
        "{P} should go back where they came from.",
        "{P} don't belong here.",
        "No {p} allowed in my shop.",
    )
    return _per_group(rng, "derogation", templates, HATEFUL, 70)


def dehumanisation(rng: random.Random) -> list[Row]:
    """Groups called animals, vermin, disease or dirt: the head must learn the nouns."""
    templates = (
        "{P} are {dehum}.",
        "{P} are {dehum}, nothing more.",
        "{P} are like {dehum}.",
        "Those {p} are {dehum}.",
        "{P} breed like {dehum}.",
        "{P} are not human, they are {dehum}.",
        "{P} are {dehum} and should be treated like it.",
        "Every {m} is {dehum}.",
        "{P} are subhuman {dehum}.",
        "Treat {p} like the {dehum} they are.",
    )
    return _per_group(rng, "dehumanisation", templates, HATEFUL, 55)


def threat(rng: random.Random) -> list[Row]:
    """Threats and calls for violence: few datasets have them, so the head missed them."""
    templates = (
        "I'm going to {v} every {m} I see.",
        "We should {v} all {p}.",
        "{P} should be {pp}.",
        "All {p} deserve to be {pp}.",
        "Someone needs to {v} those {p}.",
        "It's time to {v} the {p}.",
        "I will {v} the next {m} who walks in here.",
        "{P} need to be {pp}, every last one.",
        "Let's {v} them all, starting with the {p}.",
        "If I see a {m} tomorrow I will {v} them.",
        "Grab your guns, we're going to {v} {p}.",
        "I hope every {m} gets {pp}.",
        "{P} will be {pp}, mark my words.",
        "Someone should {attack} the {place}.",
        "We're going to {attack} that {place} next week.",
        "Let's {attack} the {place} tonight.",
        "Find the {p} and {threat}.",
        "Time to {threat}, all the {p}.",
        "Next time I see {p} I'll {threat}.",
        "Meet at the {place} on Saturday, we {threat}.",
    )
    return _per_group(rng, "threat", templates, HATEFUL, 55)


def hate_question(rng: random.Random) -> list[Row]:
    """Hate phrased as a question: "?" and "why" must not wash hate out."""
    templates = (
        "Why are {p} so {neg}?",
        "Why are all {p} {dehum}?",
        "Why do we let {p} live here?",
        "Wouldn't it be better if all {p} were {pp}?",
        "Isn't it obvious that {p} are {neg}?",
        "What if we just {v} all {p}?",
        "How long until we {v} the {p}?",
        "Why should we tolerate {p} at all?",
        "Who else thinks {p} are {dehum}?",
        "Why can't {p} just disappear?",
        "Can we finally admit {p} are {neg}?",
        "Who actually thinks {p} are {q}?",
        "Why do {p} insist on being {neg}?",
        "What is it with {p} and being so {neg}?",
        "Has a {m} ever been {q}?",
        "Can anyone name one {m} who is {q}?",
        "Why would anyone think {p} are {q}?",
        "Is there anything worse than {p}?",
    )
    return _per_group(rng, "hate-question", templates, HATEFUL, 45)


def hate_opinion(rng: random.Random) -> list[Row]:
    """Hate as an opinion: "I think" and "in my view" must not soften it."""
    templates = (
        "I think {p} are {neg}.",
        "In my opinion {p} are {dehum}.",
        "Honestly, {p} are {neg}.",
        "I believe {p} should be {pp}.",
        "Just my view, but {p} are {neg}.",
        "I feel like {p} are {dehum}.",
        "Personally I {nv} {p}.",
        "IMO {p} are {neg}.",
        "I've always thought {p} were {neg}.",
    )
    return _per_group(rng, "hate-opinion", templates, HATEFUL, 40)


def negated_positive(rng: random.Random) -> list[Row]:
    """A positive statement negated is hate: "not", "never" and "no" flip the meaning."""
    templates = (
        "{P} don't deserve {des}.",
        "{Adj} lives don't matter.",
        "I will never {pv} {p}.",
        "{P} are not {pos}.",
        "{P} are not welcome here.",
        "{P} do not belong in this country.",
        "No {m} deserves {des}.",
        "I don't {pv} {p} and never will.",
        "{P} are not human beings.",
        "There is no such thing as a decent {m}.",
        "{P} will never be equal to us.",
        "I refuse to treat {p} as equals.",
        "{P} are not {q}.",
        "No {m} is {q}.",
        "{P} can never be {q}.",
        "Not a single {m} is {q}.",
        "{P} will never be {q}.",
    )
    return _per_group(rng, "negated-positive", templates, HATEFUL, 45)


def negated_hate(rng: random.Random) -> list[Row]:
    """A hateful statement negated or rejected is not hate."""
    templates = (
        "{P} are not {neg}.",
        "{P} are not {dehum}.",
        "I don't {nv} {p}.",
        "No one should {v} {p}.",
        "Nobody thinks {p} are {dehum} anymore.",
        "It is not true that {p} are {neg}.",
        "{P} are not {neg}, they are {pos}.",
        "I would never say {p} are {neg}.",
        "{P} should never be {pp}.",
        "Not one {m} I know is {neg}.",
        "{P} are not a threat to anyone.",
        "{P} are {q}, like anyone else.",
        "Of course {p} are {q}.",
    )
    return _per_group(rng, "negated-hate", templates, BENIGN, 45)


def counter_speech(rng: random.Random) -> list[Row]:
    """Denouncing hate, quoting it or naming it: the quoted words are the speaker's target,
    not the group, so framing words ("saying", "bigotry", "stop") must outweigh them."""
    templates = (
        "Saying {p} are {neg} {rej}.",
        "Calling {p} '{dehum}' {rej}.",
        "The idea that {p} are {neg} {rej}.",
        '"{P} are {dehum}" {rej}.',
        "Stop spreading the lie that {p} are {neg}.",
        "My uncle said {p} are {neg}; that {rej}.",
        "Anyone who says {p} should be {pp} needs to be reported.",
        "People claiming {p} are {dehum} should be ashamed.",
        "{Prejudice} has no place here.",
        "We must stand up to {prejudice} wherever we see it.",
        "Hatred of {p} is poison, and it's rising.",
        "I'm tired of the {prejudice} in these comments.",
        "Report the guy who wrote '{p} are {dehum}'. That is {prejudice}.",
        "That comment about {p} being {neg} is pure {prejudice}.",
    )
    rows = []
    for group in GROUPS:
        fill = Filler(rng, group)
        for _ in range(60):
            template = rng.choice(templates)
            prejudice = PREJUDICE[group.slug]
            text = styled(rng, fill(template, Prejudice=_cap(prejudice)))
            rows.append(Row(text, "counter-speech", 0.0, 0.0, None))
    return rows


def abuse_not_hate(rng: random.Random) -> list[Row]:
    """Insults at a person or at a group nobody is protected for: rude (toxic), not hate.
    The same hostile templates as `derogation`, with the target swapped, so the head learns
    that a protected group, not the hostility, makes hate."""
    person = (
        "You are a {insult}.",
        "You're such a {insult}.",
        "What a {insult} you are.",
        "Shut up, you {insult}.",
        "The author is a complete {insult}.",
        "My boss is a {neg} {insult}.",
        "Only a {insult} would write this.",
    )
    groups = (
        "{np} are {neg}.",
        "I {nv} {np}.",
        "All {np} are {neg}.",
        "{np} are {dehum}.",
        "Why are {np} so {neg}?",
        "I think {np} are {neg}.",
        "{np} should be banned from here.",
        "{np} ruin everything they touch.",
        "I can't stand {np}, they are the worst.",
    )
    rows = []
    fill = Filler(rng)
    for _ in range(500):
        rows.append(Row(styled(rng, fill(rng.choice(person))), "abuse-person", 0.0, 1.0, None))
    for _ in range(900):
        rows.append(Row(styled(rng, fill(rng.choice(groups))), "abuse-group", 0.0, 1.0, None))
    return rows


def profanity(rng: random.Random) -> list[Row]:
    """Swearing that attacks no group: profane (toxic by the label schema), never hate."""
    templates = (
        "{swear} that was a great match!",
        "This is {swear} brilliant.",
        "{swear}, I love this song.",
        "That goal was {swear} incredible.",
        "{swear} yes, finally some good news!",
        "I'm so {swear} tired of this weather.",
        "{swear}, the traffic today was insane.",
        "Best {swear} pizza in town.",
        "{swear} I forgot my keys again.",
    )
    rows = []
    fill = Filler(rng)
    for _ in range(500):
        text = styled(rng, fill(rng.choice(templates), swear=rng.choice(PROFANITY)))
        rows.append(Row(text, "profanity", 0.0, 1.0, None))
    return rows


def slur_hate(rng: random.Random) -> list[Row]:
    """Slurs as attacks, for every group that has them."""
    templates = (
        "Get the {slur} out of here.",
        "{Slur} are ruining this country.",
        "I hate {slur}.",
        "Bunch of filthy {slur}.",
        "{Slur} should be {pp}.",
        "No {slur} in my neighbourhood.",
        "Those {slur} again, typical.",
        "Why are {slur} like this?",
    )
    rows = []
    for group in GROUPS:
        fill = Filler(rng, group)
        for slur in SLURS.get(group.slug, ()):
            for _ in range(14):
                text = styled(rng, fill(rng.choice(templates), slur=slur, Slur=_cap(slur)))
                rows.append(Row(text, "slur-hate", 1.0, 1.0, None, group.slug))
    return rows


FAMILIES: tuple[Callable[[random.Random], list[Row]], ...] = (
    identity_positive,
    identity_neutral,
    derogation,
    dehumanisation,
    threat,
    hate_question,
    hate_opinion,
    negated_positive,
    negated_hate,
    counter_speech,
    abuse_not_hate,
    profanity,
    slur_hate,
)
