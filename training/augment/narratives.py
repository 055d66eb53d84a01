"""Generated rows for antisemitic tropes, conspiracy claims and the short comments of a blog.

The antisemitism sets are tweets and 4chan posts, the conspiracy sets long COVID-era
Telegram posts: neither has the one-line forms a comment section gets ("the Rothschilds own
every central bank", "chemtrails keep us docile"), and no set has "Love this!!" or "ok" as a
negative, so short texts were scored by the shape features alone. Each family says what it
adds; rows go to the train split only.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from training.augment.families import Row, _cap, styled

JEWS = (
    "Jews",
    "the Jews",
    "Jewish people",
    "Zionists",
    "the Jewish elite",
    "the tribe",
    "(((they)))",
)
INSTITUTIONS = (
    "the media",
    "the banks",
    "Hollywood",
    "the government",
    "Congress",
    "the Federal Reserve",
    "the world's money",
    "every central bank",
    "the universities",
    "big tech",
    "the news",
    "the porn industry",
    "the slave trade",
    "Wall Street",
    "the UN",
    "both parties",
)
CONTROL = (
    "control",
    "run",
    "own",
    "pull the strings of",
    "are behind",
    "secretly run",
    "rule",
    "have bought",
    "are in charge of",
    "have taken over",
)


def antisemitic_tropes(rng: random.Random) -> list[Row]:
    """Classic tropes (control, greed, dual loyalty, deicide, blood libel, world plots):
    stated plainly they carry no slur, so the hate head missed them."""
    templates = (
        "{J} {c} {i}.",
        "Notice how {J} {c} {i}.",
        "It's no secret that {j} {c} {i}.",
        "Wake up, {j} {c} {i}.",
        "{J} {c} {i} and {i2}.",
        "Who do you think {c} {i}? {J}.",
        "The Rothschilds {c} {i}.",
        "Follow the money and you find the Rothschild bankers.",
        "Soros and his friends {c} {i}.",
        "Every war is funded by Jewish bankers.",
        "{J} are only loyal to Israel, never to this country.",
        "You can't trust a Jewish politician, their loyalty is to Israel.",
        "{J} killed Christ and never paid for it.",
        "{J} use the blood of Christian children.",
        "{J} only care about money.",
        "Typical Jew, always counting his shekels.",
        "{J} are planning a new world order.",
        "{J} want to rule the world.",
        "The Jewish lobby decides who wins every election.",
        "{J} are behind every revolution.",
        "{J} caused the financial crisis to get richer.",
        "{J} are parasites on every nation.",
        "{J} spread communism to destroy the West.",
        "{J} are the real racists.",
        "International Jewry is the enemy of every free people.",
    )
    rows = []
    for _ in range(900):
        jews = rng.choice(JEWS)
        institution, second = rng.sample(INSTITUTIONS, 2)
        text = rng.choice(templates).format(
            J=_cap(jews), j=jews, c=rng.choice(CONTROL), i=institution, i2=second
        )
        conspiracy = (
            1.0 if any(word in text for word in ("control", "run", "behind", "plan")) else None
        )
        rows.append(
            Row(styled(rng, _cap(text)), "antisemitic-trope", 1.0, 1.0, conspiracy, "jewish")
        )
    return rows


def antisemitic_codes(rng: random.Random) -> list[Row]:
    """Code words and symbols (echo parentheses, ZOG, goyim, Khazarian, happy merchant,
    six million mockery): the normaliser marks them, this teaches what the marks mean."""
    templates = (
        "(((They))) {c} {i}.",
        "The (((media))) lies again.",
        "Guess who owns {i}? (((Them))).",
        "ZOG {c} {i}.",
        "We live under ZOG.",
        "Another war for ZOG.",
        "The goyim know.",
        "Shut it down, the goyim know.",
        "Oy vey, another shoah.",
        "Six gorillion, lol.",
        "The Khazarian mafia {c} {i}.",
        "Globalist bankers {c} {i}.",
        "The happy merchant strikes again.",
        "Rootless cosmopolitans {c} {i}.",
        "Ask who benefits: (((the usual suspects))).",
        "Early life section, every single time.",
        "The JQ explains everything.",
        "Holohoax believers are sheep.",
        "Another shekel grab by (((them))).",
        "Goyim are cattle to (((them))).",
        "(((Soros))) is funding the invasion.",
        "{i} is run by (((globalists))).",
    )
    rows = []
    for _ in range(700):
        text = rng.choice(templates).format(c=rng.choice(CONTROL), i=rng.choice(INSTITUTIONS))
        rows.append(Row(styled(rng, _cap(text)), "antisemitic-code", 1.0, 1.0, None, "jewish"))
    return rows


DENIAL_SUBJECTS = (
    "The Holocaust",
    "The so-called Holocaust",
    "The Holocaust story",
    "The Shoah",
    "The holocaust",
)
DENIAL_CLAIMS = (
    "never happened",
    "is a hoax",
    "is a myth",
    "was exaggerated to guilt the world",
    "is Jewish propaganda",
    "was invented for money",
    "is the biggest lie in history",
    "is fake history",
    "is a fairy tale",
    "was a Zionist fabrication",
    "is overblown nonsense",
    "didn't happen the way they tell it",
    "is used to blackmail the world",
)
DENIAL_OTHER = (
    "Six million is a made-up number.",
    "The gas chambers were just showers.",
    "Auschwitz was a work camp with a swimming pool.",
    "Nobody was gassed in the camps.",
    "Only a few thousand Jews died, of typhus.",
    "Holocaust survivors are paid actors.",
    "The numbers at Auschwitz were faked.",
    "Hitler was right about the Jews.",
    "Hitler should have finished the job.",
    "Israelis are the new Nazis, worse than Hitler.",
    "The Jews are the real Nazis now.",
    "Jews deserved what happened to them in the war.",
    "The gas chambers never existed.",
    "Six million? More like six hundred.",
    "Anne Frank's diary is a forgery.",
    "They exaggerate the Holocaust to get sympathy.",
)


def holocaust_denial(rng: random.Random) -> list[Row]:
    """Denial, minimisation and inversion of the Holocaust (hate toward Jews in IHRA's
    definition); the datasets have few, and mostly as jokes."""
    rows = []
    for _ in range(600):
        if rng.random() < 0.6:
            text = f"{rng.choice(DENIAL_SUBJECTS)} {rng.choice(DENIAL_CLAIMS)}."
        else:
            text = rng.choice(DENIAL_OTHER)
        rows.append(Row(styled(rng, text), "holocaust-denial", 1.0, 1.0, None, "jewish"))
    return rows


def jewish_life(rng: random.Random) -> list[Row]:
    """Jewish life, Israel in the news and criticism of its governments: the antisemitism
    sets' negatives are few, so "Jewish", "Israel" and "synagogue" read as hate."""
    templates = (
        "The synagogue on Elm Street is hosting a Hanukkah market.",
        "Happy Passover to everyone celebrating!",
        "We lit the menorah with the kids tonight.",
        "Shabbat shalom, friends.",
        "My grandmother survived the Holocaust and spoke at schools.",
        "Holocaust Remembrance Day is on Monday; the museum is free.",
        "The Israeli government's settlement policy is wrong and should end.",
        "Israel's parliament passed the budget after a long debate.",
        "I disagree with Netanyahu's coalition on almost everything.",
        "Antisemitic incidents rose last year, a new report says.",
        "The rabbi gave a lovely talk at the interfaith dinner.",
        "Yom Kippur begins at sundown, so the office closes early.",
        "Our Jewish neighbours invited us for a Seder.",
        "I converted to Judaism last year.",
        "The Jewish deli downtown makes the best bagels.",
        "My son's bar mitzvah is in May.",
        "Protesters in Tel Aviv called for new elections.",
        "The kibbutz grows avocados now.",
        "There are about 15 million Jews in the world.",
        "The Jewish Museum has a new exhibition.",
        "Criticising Israel's army for the strike is fair; blaming all Jews is not.",
        "Ceasefire talks between Israel and Hamas resumed in Cairo.",
        "The Rothschild family once owned the vineyard we visited.",
        "I'm Jewish and I love this recipe.",
        "Zionism means different things to different Jews.",
        "Anne Frank's diary should be read in schools.",
    )
    holidays = ("Hanukkah", "Passover", "Purim", "Rosh Hashanah", "Yom Kippur", "Sukkot", "Shabbat")
    events = (
        "Our synagogue is hosting a {h} dinner for the whole street.",
        "Happy {h} to all who celebrate!",
        "The school closes early for {h} this year.",
        "We're cooking for {h} with the grandparents.",
        "The Jewish community centre runs a {h} craft morning.",
        "My Jewish friends invited me for {h}.",
    )
    actors = (
        "The Israeli government",
        "Netanyahu's coalition",
        "The Knesset",
        "Israel's defence minister",
        "The IDF",
    )
    policies = (
        "is wrong about the settlements",
        "should agree to the ceasefire",
        "made a terrible decision today",
        "faces mass protests at home",
        "passed a controversial judicial reform",
        "must allow more aid into Gaza",
        "was criticised by the UN for the strike",
        "is losing support among young voters",
    )
    rows = []
    for _ in range(900):
        pick = rng.random()
        if pick < 0.4:
            text = rng.choice(templates)
        elif pick < 0.7:
            text = rng.choice(events).format(h=rng.choice(holidays))
        else:
            text = f"{rng.choice(actors)} {rng.choice(policies)}."
        rows.append(Row(styled(rng, text), "jewish-life", 0.0, 0.0, 0.0))
    return rows


AGENTS = (
    "the government",
    "the elites",
    "a secret cabal",
    "the deep state",
    "the globalists",
    "Big Pharma",
    "Bill Gates",
    "the Illuminati",
    "the WEF",
    "the UN",
    "the CIA",
    "the shadow government",
    "a handful of billionaires",
    "the people who really run the world",
    "they",
    "the Freemasons",
    "the banks",
    "the New World Order",
    "the reptilians",
    "Soros",
)
PLOTS = (
    "staged the shooting as a false flag",
    "used crisis actors at the bombing",
    "planned the pandemic to control us",
    "put microchips in the vaccines",
    "spray chemtrails to keep us docile",
    "use 5G towers to track and sicken us",
    "are replacing us with immigrants on purpose",
    "faked the moon landing",
    "control the weather with HAARP",
    "are hiding the cure for cancer",
    "rig every election in secret",
    "poison the water to make us obedient",
    "created the virus in a lab to cull the population",
    "are covering up the flat earth",
    "did 9/11 themselves",
    "secretly decide every war",
    "are planning mass depopulation",
    "are behind every school shooting",
    "invented climate change to tax us",
    "brainwash the public through the TV",
    "killed JFK and covered it up",
    "are spraying something from planes every day",
    "built the camps for us already",
)
CLAIMS = (
    "{A} {p}.",
    "Wake up, {a} {p}.",
    "It's obvious {a} {p}.",
    "Do your research: {a} {p}.",
    "They don't want you to know that {a} {p}.",
    "I'm convinced {a} {p}.",
    "Everyone knows {a} {p}, the media just won't say it.",
    "Open your eyes, {a} {p}.",
    "Nothing is a coincidence. {A} {p}.",
    "The truth is that {a} {p}.",
    "{A} {p}, sheeple.",
)


def conspiracy_claims(rng: random.Random) -> list[Row]:
    """Conspiracy claims in one or two sentences: a hidden actor and a secret plot. The
    PAN posts are long and COVID-only; comments state the plot in a line."""
    rows = []
    for _ in range(1500):
        agent = rng.choice(AGENTS)
        text = rng.choice(CLAIMS).format(A=_cap(agent), a=agent, p=rng.choice(PLOTS))
        rows.append(Row(styled(rng, _cap(text)), "conspiracy-claim", 0.0, 0.0, 1.0))
    return rows


def conspiracy_debunk(rng: random.Random) -> list[Row]:
    """The same plots reported, doubted or debunked: naming a theory is not asserting it."""
    templates = (
        "The claim that {a} {p} has been debunked many times.",
        "There is no evidence that {a} {p}.",
        "My uncle believes {a} {p}, which is nonsense.",
        "Conspiracy theories saying {a} {p} spread fast online.",
        "Fact check: no, {a} never {p2}.",
        "Some people online insist {a} {p}; it's absurd.",
        "The documentary explains why people think {a} {p}.",
        "Researchers studied why the idea that {a} {p} is so popular.",
    )
    rows = []
    for _ in range(800):
        plot = rng.choice(PLOTS)
        text = rng.choice(templates).format(a=rng.choice(AGENTS), p=plot, p2=plot)
        rows.append(Row(styled(rng, _cap(text)), "conspiracy-debunk", 0.0, 0.0, 0.0))
    return rows


CRITICISM = (
    "The government handled the flood response badly.",
    "Pharma companies charge far too much for insulin.",
    "The media spends more time on celebrities than on policy.",
    "The bank raised its fees again, ridiculous.",
    "The council wasted money on that bridge.",
    "Tech firms collect far too much of our data.",
    "Oil companies spend millions on lobbying, it's all on public record.",
    "The minister should resign over the report.",
    "This newspaper's headline was misleading.",
    "The new tax hits the poorest hardest.",
    "The police response to the protest was heavy-handed.",
    "Vaccine makers should publish all their trial data.",
    "The airline's refund policy is a scam.",
    "Politicians break their promises every election.",
    "The WHO was too slow at the start of the pandemic.",
    "Big supermarkets squeeze farmers on price.",
    "The mayor ignored the residents' petition.",
    "The regulator fined the bank, but the fine is too small.",
    "Cable news is biased, both sides.",
    "Drug prices in the US are a scandal.",
    "The government hid the bad numbers until after the vote.",
)


def criticism(rng: random.Random) -> list[Row]:
    """Criticism of governments, media, pharma and banks with no secret plot: the hard
    negatives of the conspiracy head, phrased the way comments are."""
    subjects = (
        "The government",
        "The council",
        "The ministry",
        "The WHO",
        "Pharma companies",
        "The bank",
        "The airline",
        "This newspaper",
        "The BBC",
        "Fox News",
        "Tech companies",
        "The mayor",
        "The police",
        "The school board",
        "The water company",
        "Facebook",
        "The EU",
        "The regulator",
        "Congress",
        "The health service",
        "Big Oil",
        "The landlord lobby",
        "The media",
    )
    predicates = (
        "handled this badly",
        "is wasting our money",
        "charges far too much",
        "ignored the residents",
        "was far too slow",
        "should be held accountable",
        "keeps raising prices",
        "is biased in its coverage",
        "made a mess of the rollout",
        "broke its promise again",
        "should publish the full data",
        "is incompetent",
        "needs an independent audit",
        "deserved that fine",
        "cut services again",
        "lobbies openly for lower taxes",
        "got the numbers wrong",
        "should apologise",
        "failed the victims",
        "puts profit before patients",
        "never answers complaints",
        "spins every story",
    )
    rows = []
    for _ in range(1200):
        if rng.random() < 0.3:
            text = rng.choice(CRITICISM)
        else:
            text = f"{rng.choice(subjects)} {rng.choice(predicates)}."
        rows.append(Row(styled(rng, text), "criticism", 0.0, 0.0, 0.0))
    return rows


FRIENDLY = (
    "Love this!",
    "Great post!",
    "Thanks for sharing.",
    "So beautiful.",
    "Lovely photos :)",
    "Can't wait to try this recipe!",
    "Nice place!",
    "Well written.",
    "Happy new year everyone!",
    "This made my day.",
    "Wow, amazing!",
    "Thank you so much!",
    "Beautiful work!!",
    "Such a great read.",
    "I love it!!",
    "Looks delicious!",
    "Brilliant, thanks!",
    "What a lovely story.",
    "So cute!",
    "Keep up the good work.",
    "Congratulations!",
    "Amazing view!!",
    "Great tips, thank you.",
    "Love your blog.",
    "This is so helpful!",
    "nice pics",
    "so nice",
    "very good",
    "love it",
    "gr8 post",
    "awesome!!!",
    "thx",
    "Bookmarked!",
    "Saving this for later.",
    "Perfect, just what I needed.",
    "Wonderful!",
    "You're the best!",
    "Merry Christmas!",
    "Good luck!",
    "Welcome back!",
    "I'll share this with my sister.",
    "This is gold.",
    "Hello everyone!",
    "Hi all :)",
    "Great photos, what camera do you use?",
    "Fab!",
    "Superb.",
    "Yum!",
    "Cheers mate",
)
MINIMAL = (
    "ok",
    "okay",
    "lol",
    "lmao",
    "haha",
    "?",
    "??",
    "!",
    "x",
    "hi",
    "hey",
    "hello",
    "yes",
    "no",
    "+1",
    "this",
    "same",
    "first",
    "me too",
    "thanks",
    "ty",
    "k",
    "hmm",
    "wow",
    "cool",
    "nice",
    "agreed",
    "true",
    "bump",
    "test",
    "hello world",
    "Hello world!",
    "...",
    "meh",
    "idk",
    "brb",
    "omg",
    "yup",
    "nope",
    "sure",
    "fine",
    "oh",
    "ah",
    "ha",
    "yay",
    "gg",
    "rofl",
    ":)",
    ":(",
    ":D",
    "<3",
    "xD",
    "^^",
    "o/",
    "¯\\_(ツ)_/¯",
)
INTERJECTIONS = (
    "",
    "",
    "Wow, ",
    "Oh ",
    "Aw, ",
    "Omg ",
    "Yes! ",
    "Ha, ",
    "Ooh ",
    "Honestly ",
    "Just ",
)
PRAISE = (
    "love this",
    "great post",
    "so nice",
    "beautiful",
    "thank you",
    "well done",
    "nice place",
    "looks amazing",
    "so cute",
    "great photos",
    "lovely",
    "brilliant idea",
    "can't wait",
    "so true",
    "made my day",
    "perfect",
    "good stuff",
    "amazing work",
    "you nailed it",
    "what a view",
    "adorable",
    "so helpful",
    "great read",
    "nice one",
    "well said",
    "fantastic",
    "gorgeous",
    "so good",
    "love the colours",
    "happy birthday",
)
ENDINGS = ("", "!", "!!", "!!!", ".", " :)", " <3", "!! :D", " x")
EMOJI = ("😂", "❤️", "👍", "🔥", "😍", "🙏", "🎉", "😊", "👏", "💯", "😭", "🤔", "✨", "🥰", "😎")


def short_comments(rng: random.Random) -> list[Row]:
    """Short friendly and minimal comments, emoji and greetings: what most of a blog's
    comments look like, and where every head must stay quiet."""
    rows = []
    for _ in range(1500):
        pick = rng.random()
        if pick < 0.25:
            text = rng.choice(FRIENDLY)
        elif pick < 0.45:
            text = f"{rng.choice(INTERJECTIONS)}{rng.choice(PRAISE)}{rng.choice(ENDINGS)}".strip()
        elif pick < 0.8:
            text = rng.choice(MINIMAL)
        else:
            text = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            text += " " + rng.choice(EMOJI)
        if rng.random() < 0.2:
            text = text.upper()
        rows.append(Row(text, "short-comment", 0.0, 0.0, 0.0))
    return rows


def nonsense(rng: random.Random) -> list[Row]:
    """Symbols, digits, single letters and keyboard mash: no head has anything to read."""
    pools = (string.punctuation, string.digits, string.ascii_letters, "asdfghjklqwertyuiop")
    rows = []
    for _ in range(400):
        pool = rng.choice(pools)
        size = rng.choice((1, 1, 2, 3, 5, 8, 15, 40))
        rows.append(Row("".join(rng.choice(pool) for _ in range(size)), "nonsense", 0.0, 0.0, 0.0))
    return rows


NARRATIVES: tuple[Callable[[random.Random], list[Row]], ...] = (
    antisemitic_tropes,
    antisemitic_codes,
    holocaust_denial,
    jewish_life,
    conspiracy_claims,
    conspiracy_debunk,
    criticism,
    short_comments,
    nonsense,
)
