"""Word lists the generated training rows are built from, each list with the reason it exists.

The lists are wide on purpose. A linear head learns a weight per n-gram, so the only way it
can learn that "I abhor X" is hateful and "I admire X" is not is to have seen both verbs in
both kinds of sentence. The group lists give every protected group the same sentences, so a
group's name carries no weight of its own (counterfactual balance, Dixon et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """How sentences name one protected group: plural nouns, the adjective, one member."""

    slug: str
    plurals: tuple[str, ...]
    adjective: str
    members: tuple[str, ...]


# Every target of app.heads.HATE_TARGETS except "other", which has no names of its own.
GROUPS: tuple[Group, ...] = (
    Group(
        "jewish",
        ("Jews", "Jewish people", "Jewish folks", "the Jews", "Jewish families"),
        "Jewish",
        ("Jew", "Jewish man", "Jewish woman", "Jewish guy"),
    ),
    Group(
        "muslim",
        ("Muslims", "Muslim people", "the Muslims", "Muslim families"),
        "Muslim",
        ("Muslim", "Muslim man", "Muslim woman", "Muslim guy"),
    ),
    Group(
        "christian",
        ("Christians", "Catholics", "Christian people", "Evangelicals"),
        "Christian",
        ("Christian", "Catholic", "Christian woman"),
    ),
    Group(
        "black",
        ("Black people", "Black folks", "African Americans", "Black Americans", "Africans"),
        "Black",
        ("Black man", "Black woman", "Black guy", "Black kid"),
    ),
    Group(
        "asian",
        (
            "Asians",
            "Asian people",
            "Chinese people",
            "Koreans",
            "Asian Americans",
            "Vietnamese people",
        ),
        "Asian",
        ("Asian man", "Asian woman", "Chinese guy"),
    ),
    Group(
        "arab",
        ("Arabs", "Arab people", "Palestinians", "Syrians"),
        "Arab",
        ("Arab", "Arab man", "Arab woman"),
    ),
    Group(
        "hispanic",
        ("Hispanics", "Latinos", "Mexicans", "Latino people", "Hispanic people"),
        "Hispanic",
        ("Mexican", "Latino", "Hispanic woman"),
    ),
    Group(
        "roma",
        ("Roma", "Romani people", "Gypsies", "Travellers", "Roma families"),
        "Romani",
        ("Roma man", "Romani woman", "Gypsy"),
    ),
    Group(
        "immigrant",
        ("immigrants", "refugees", "migrants", "asylum seekers", "foreigners"),
        "immigrant",
        ("immigrant", "refugee", "migrant"),
    ),
    Group(
        "women",
        ("women", "females", "all women", "women in tech", "female drivers"),
        "female",
        ("woman", "girl", "female colleague"),
    ),
    Group(
        "lgbtq",
        (
            "gay people",
            "trans people",
            "transgender people",
            "lesbians",
            "queer people",
            "bisexual people",
            "gay men",
            "trans women",
            "homosexuals",
        ),
        "gay",
        ("gay man", "trans woman", "lesbian", "trans kid"),
    ),
    Group(
        "disability",
        (
            "disabled people",
            "people with disabilities",
            "the disabled",
            "autistic people",
            "wheelchair users",
            "blind people",
            "deaf people",
        ),
        "disabled",
        ("disabled person", "autistic kid", "wheelchair user"),
    ),
)

# Groups that are not protected. Hostility toward them is rude, not hate: the hate head must
# see the same sentences with these to learn that the target, not the hostility, makes hate.
NON_PROTECTED: tuple[str, ...] = (
    "politicians",
    "lawyers",
    "landlords",
    "cyclists",
    "referees",
    "journalists",
    "estate agents",
    "vegans",
    "boomers",
    "billionaires",
    "CEOs",
    "influencers",
    "Tories",
    "Democrats",
    "Republicans",
    "liberals",
    "conservatives",
    "Yankees fans",
    "Chelsea fans",
    "Tesla owners",
    "gamers",
    "hipsters",
    "bureaucrats",
    "telemarketers",
    "tech bros",
    "the council",
    "anti-vaxxers",
    "flat earthers",
    "crypto bros",
    "city planners",
)

# Contempt and disgust as adjectives ("X are ___").
NEGATIVE_ADJECTIVES: tuple[str, ...] = (
    "disgusting",
    "worthless",
    "filthy",
    "inferior",
    "vile",
    "pathetic",
    "evil",
    "savage",
    "repulsive",
    "lazy",
    "dirty",
    "dishonest",
    "subhuman",
    "stupid",
    "revolting",
    "wicked",
    "degenerate",
    "primitive",
    "useless",
    "nasty",
    "sick in the head",
    "barbaric",
    "greedy",
    "violent",
    "dangerous",
    "a disgrace",
    "a burden on society",
    "a stain on this country",
    "incapable of civilised behaviour",
    "born criminals",
    "too dumb to vote",
)

# Hostile feelings as verbs ("I ___ X").
NEGATIVE_VERBS: tuple[str, ...] = (
    "hate",
    "despise",
    "loathe",
    "detest",
    "abhor",
    "can't stand",
    "am disgusted by",
    "resent",
    "spit on",
    "can't bear",
    "have nothing but contempt for",
    "am sickened by",
    "would never hire",
    "refuse to serve",
    "don't want to live near",
)

# Warm feelings as verbs, the mirror of NEGATIVE_VERBS.
POSITIVE_VERBS: tuple[str, ...] = (
    "love",
    "admire",
    "respect",
    "appreciate",
    "adore",
    "cherish",
    "welcome",
    "stand with",
    "support",
    "value",
    "am grateful for",
    "am proud of",
    "look up to",
    "celebrate",
    "enjoy working with",
)

POSITIVE_ADJECTIVES: tuple[str, ...] = (
    "wonderful",
    "kind",
    "brilliant",
    "hardworking",
    "welcome here",
    "valued members of our community",
    "an asset to this town",
    "talented",
    "generous",
    "lovely neighbours",
    "great colleagues",
    "as human as anyone",
    "part of who we are",
    "amazing",
    "so resilient",
    "funny and warm",
)

# Things everyone deserves, for positive statements and their negations ("X deserve ___").
DESERVED: tuple[str, ...] = (
    "respect",
    "equal rights",
    "to be safe",
    "dignity",
    "a fair chance",
    "to live in peace",
    "the same rights as everyone",
    "to be treated as human beings",
    "a voice",
    "protection",
)

# Groups as animals, vermin, disease and dirt ("X are ___").
DEHUMANISING: tuple[str, ...] = (
    "vermin",
    "rats",
    "cockroaches",
    "parasites",
    "animals",
    "a disease",
    "a cancer",
    "a virus",
    "filth",
    "pigs",
    "leeches",
    "maggots",
    "savages",
    "subhumans",
    "a plague",
    "trash",
    "garbage",
    "locusts",
    "insects",
    "a pest",
    "dogs",
    "apes",
    "worms",
    "scum",
    "an infestation",
    "a tumour on society",
    "swine",
    "lice",
    "beasts",
    "mongrels",
)

# Violence as verbs for threats and calls to violence ("___ them all").
VIOLENT_VERBS: tuple[str, ...] = (
    "kill",
    "shoot",
    "hang",
    "gas",
    "exterminate",
    "wipe out",
    "burn",
    "stab",
    "beat up",
    "lynch",
    "slaughter",
    "get rid of",
    "eradicate",
    "bomb",
    "drown",
    "murder",
    "crush",
    "round up",
    "purge",
    "annihilate",
)

VIOLENT_PARTICIPLES: tuple[str, ...] = (
    "killed",
    "shot",
    "hanged",
    "gassed",
    "exterminated",
    "wiped out",
    "burned",
    "stabbed",
    "beaten",
    "lynched",
    "slaughtered",
    "eradicated",
    "deported",
    "locked up",
    "sterilised",
    "thrown out",
    "banned from the country",
    "put in camps",
    "executed",
    "purged",
)

# Insults at a person, for abuse that is toxic but not hate.
INSULTS: tuple[str, ...] = (
    "idiot",
    "moron",
    "clown",
    "loser",
    "jerk",
    "fool",
    "imbecile",
    "halfwit",
    "muppet",
    "dumbass",
    "asshole",
    "piece of garbage",
    "waste of space",
    "absolute disgrace",
    "pathetic troll",
    "liar",
    "coward",
    "creep",
    "nitwit",
    "buffoon",
    "tosser",
    "dickhead",
)

PROFANITY: tuple[str, ...] = (
    "fucking",
    "bloody",
    "damn",
    "holy shit",
    "hell yeah",
    "shit",
    "fuck me",
    "goddamn",
)

# Slurs, for slur-based hate. Only in the hate family that uses them: the model must see
# them as attacks, and the data's reclaimed and quoted uses teach the rest.
SLURS: dict[str, tuple[str, ...]] = {
    "jewish": ("kikes", "yids", "heebs"),
    "black": ("niggers", "coons", "jigaboos"),
    "asian": ("chinks", "gooks"),
    "hispanic": ("spics", "wetbacks", "beaners"),
    "arab": ("ragheads", "towelheads", "sand niggers"),
    "muslim": ("ragheads", "muzzies"),
    "lgbtq": ("faggots", "dykes", "trannies", "fags"),
    "disability": ("retards", "spastics", "cripples"),
    "roma": ("gyppos", "pikeys"),
    "women": ("sluts", "whores", "bitches"),
    "immigrant": ("illegals", "invaders"),
}

# Ordinary subjects of neutral sentences about a group's members.
NEUTRAL_FACTS: tuple[str, ...] = (
    "My neighbour is {adj}.",
    "I am {adj} and I live in Leeds.",
    "Our new manager is {adj}.",
    "The {adj} community centre opens at nine.",
    "{P} live in almost every country.",
    "The survey asked {p} about housing costs.",
    "She is {adj}, like her mother.",
    "A group of {p} started a choir in our town.",
    "{P} are a diverse group.",
    "There are many {p} in my son's class.",
    "He married a {m} last spring.",
    "My dentist is {adj}.",
    "I grew up around {p}.",
    "The census counts {p} too.",
    "Some {p} voted yes and some voted no.",
    "{P} run the bakery on Elm Street.",
    "Is your landlord {adj}?",
    "The article interviews three {p}.",
    "We invited {p} from the neighbourhood to the meeting.",
    "I'm {adj}, ask me anything.",
    "Being {adj} is part of my identity.",
    "The documentary follows {p} in London.",
    "My best friend is a {m}.",
    "{P} have lived in this region for centuries.",
)

# Words that say a claim is false or wrong, for negated hate and counter-speech.
REJECTIONS: tuple[str, ...] = (
    "is bigotry, plain and simple",
    "is a lie",
    "is a vile stereotype",
    "is racist nonsense",
    "is hateful and wrong",
    "has no place here",
    "is exactly the kind of hate we must fight",
    "is ignorant",
    "is a disgusting thing to say",
    "is simply false",
    "is prejudice",
    "is dehumanising",
    "makes me sick",
    "should be called out every time",
)

# The name of the prejudice against each group, for counter-speech that names it.
PREJUDICE: dict[str, str] = {
    "jewish": "antisemitism",
    "muslim": "Islamophobia",
    "christian": "anti-Christian bigotry",
    "black": "anti-Black racism",
    "asian": "anti-Asian racism",
    "arab": "anti-Arab racism",
    "hispanic": "anti-Latino racism",
    "roma": "antigypsyism",
    "immigrant": "xenophobia",
    "women": "misogyny",
    "lgbtq": "homophobia and transphobia",
    "disability": "ableism",
}


# Qualities a hateful sentence denies a group ("X are not ___", "no X is ___"): worth,
# competence, trust, belonging, humanity. A negated positive is hate; the head must learn the
# "not" + quality pair, not only the hostile words it has no other way to see.
QUALITIES: tuple[str, ...] = (
    "capable of anything",
    "trustworthy",
    "smart enough to vote",
    "loyal to this country",
    "equal to the rest of us",
    "real citizens",
    "worthy of respect",
    "worth hiring",
    "fit to lead",
    "good parents",
    "honest",
    "civilised",
    "able to think for themselves",
    "fully human",
    "decent people",
    "worth saving",
    "safe to be around",
    "real Americans",
    "as intelligent as us",
    "worth the air they breathe",
    "welcome in this country",
    "fit to raise children",
    "part of our nation",
    "worth listening to",
    "normal",
    "deserving of love",
    "to be trusted with money",
    "qualified for any job",
)

# Violence against a group's places and gatherings: threats often name the mosque or the
# parade instead of the people.
PLACES: dict[str, tuple[str, ...]] = {
    "jewish": ("synagogue", "Jewish school", "kosher shop"),
    "muslim": ("mosque", "Islamic centre", "halal butcher"),
    "christian": ("church", "cathedral"),
    "black": ("Black church", "Black neighbourhood"),
    "asian": ("Chinese restaurant", "Asian market"),
    "arab": ("Arab cafe", "Arab bakery"),
    "hispanic": ("Mexican market", "Latino festival"),
    "roma": ("Roma camp", "traveller site"),
    "immigrant": ("refugee shelter", "asylum hotel", "migrant camp"),
    "women": ("women's shelter", "women's march"),
    "lgbtq": ("pride parade", "gay bar", "drag show"),
    "disability": ("care home", "special needs school"),
}
ATTACKS: tuple[str, ...] = (
    "burn down",
    "torch",
    "firebomb",
    "blow up",
    "shoot up",
    "attack",
    "raid",
    "smash up",
    "run over everyone at",
    "tear down",
    "wreck",
    "storm",
)
THREAT_PHRASES: tuple[str, ...] = (
    "hunt them down",
    "make them bleed",
    "crack their skulls",
    "put them in the ground",
    "string them up",
    "run them over",
    "break their necks",
    "teach them a lesson with a bat",
    "wipe them off the map",
    "send them to the ovens",
    "put a bullet in each of them",
    "knife the lot of them",
    "drive them out by force",
    "beat them senseless",
)
