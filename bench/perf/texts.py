"""Realistic short texts: the kind of thing people tell a memory bot, and the kind of thing they ask.

Every text comes from a template and a few word lists. :func:`memory_texts` and :func:`query_texts`
enumerate every combination in a fixed, seeded order without repeats, so a run can hand out as many
distinct texts as it needs - a text embedded once would be a cache hit the second time and flatter
the figures.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterator


def _list(words: str, separator: str = " ") -> tuple[str, ...]:
    return tuple(words.split(separator))


NAMES = _list(
    "Alex Amara Ana Ben Carla Chen Dana David Elif Emma Farah Felix Grace Hana Hugo Ines Ivan Jon "
    "Julia Kai Kenji Lara Leo Lina Luca Maya Mei Mia Nadia Nina Noah Omar Oscar Pablo Priya Rafa "
    "Rosa Sam Sara Sofia Tariq Theo Tom Uma Vera Wei Yara Yusuf Zoe Aisha Bruno Cleo Dmitri Eva"
)
RELATIVES = _list("sister brother mother father daughter son partner wife husband cousin aunt uncle")
CITIES = _list(
    "Lisbon Berlin Toronto Nairobi Osaka Lyon Austin Porto Dublin Seoul Madrid Oslo Denver Cairo "
    "Milan Prague Quito Lagos Perth Kyoto Vienna Chicago Boston Mumbai Hanoi Seattle Zurich Athens"
)
FOODS = _list(
    "peanuts shellfish gluten dairy eggs sesame soy mushrooms coriander olives tofu lamb pork "
    "chilli garlic avocado strawberries kiwi walnuts oats"
)
DISHES = _list(
    "ramen|pad thai|lasagne|falafel|sushi|dal|pho|paella|tacos|risotto|bibimbap|shakshuka|pierogi|"
    "jollof rice|moussaka|poke bowls|gnocchi|laksa",
    "|",
)
JOBS = _list(
    "nurse|data analyst|teacher|product manager|backend engineer|designer|accountant|architect|"
    "pharmacist|sales lead|researcher|support agent|chef|lawyer|recruiter|electrician",
    "|",
)
COMPANIES = _list("Acme|Globex|Initech|Umbrella|Hooli|Vandelay|Stark Labs|Wayne Foods|Pied Piper|Tyrell", "|")
PROJECTS = _list("Atlas|Borealis|Cobalt|Delta|Ember|Falcon|Granite|Harbor|Iris|Juniper|Kestrel|Lumen", "|")
MONTHS = _list("January February March April May June July August September October November December")
WEEKDAYS = _list("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
TIMES = _list("7am|8:30am|9am|10am|noon|1pm|3pm|5:30pm|6pm|7pm|8pm", "|")
PETS = _list("Miso|Biscuit|Pepper|Luna|Mochi|Ziggy|Olive|Nacho|Pixel|Juno|Waffles|Tofu", "|")
LANGUAGES = _list("Spanish Japanese German Portuguese Korean Italian Arabic Mandarin French Swahili")
HOBBIES = _list(
    "bouldering|sourdough baking|chess|trail running|pottery|salsa dancing|birdwatching|knitting|"
    "film photography|cycling|gardening|choir",
    "|",
)
SEATS = _list("window|aisle|exit-row|front-row", "|")
COFFEE = _list("black|with oat milk|as a flat white|as a double espresso|with two sugars|decaf", "|")

MEMORY_TEMPLATES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("I'm allergic to {}", (FOODS,)),
    ("I don't eat {}", (FOODS,)),
    ("My favourite dish is {}", (DISHES,)),
    ("My {}'s name is {}", (RELATIVES, NAMES)),
    ("My {} {} lives in {}", (RELATIVES, NAMES, CITIES)),
    ("{}'s birthday is in {}", (NAMES, MONTHS)),
    ("I prefer {} seats when I fly", (SEATS,)),
    ("I live in {} now", (CITIES,)),
    ("I grew up in {} and moved to {} later", (CITIES, CITIES)),
    ("I work as a {} at {}", (JOBS, COMPANIES)),
    ("My manager at {} is {}", (COMPANIES, NAMES)),
    ("The {} launch is planned for {}", (PROJECTS, MONTHS)),
    ("{} owns the {} project", (NAMES, PROJECTS)),
    ("I go to the gym on {}s at {}", (WEEKDAYS, TIMES)),
    ("Our team standup is at {} every {}", (TIMES, WEEKDAYS)),
    ("I'm learning {} for a trip to {}", (LANGUAGES, CITIES)),
    ("My cat is called {}", (PETS,)),
    ("My dog {} is scared of {}", (PETS, NAMES)),
    ("I take my coffee {}", (COFFEE,)),
    ("{} prefers calls to email", (NAMES,)),
    ("My hobby is {} on {}s", (HOBBIES, WEEKDAYS)),
    ("I want to visit {} in {}", (CITIES, MONTHS)),
    ("{} recommended {} in {}", (NAMES, DISHES, CITIES)),
    ("Dentist appointment every {} at {}", (MONTHS, TIMES)),
    ("{} from {} is my mentor", (NAMES, COMPANIES)),
)

QUERY_TEMPLATES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("what am I allergic to besides {}", (FOODS,)),
    ("do I eat {}", (FOODS,)),
    ("what is my {}'s name", (RELATIVES,)),
    ("who is {}", (NAMES,)),
    ("when is {}'s birthday", (NAMES,)),
    ("where does my {} live", (RELATIVES,)),
    ("what do I know about {}", (CITIES,)),
    ("when does {} launch", (PROJECTS,)),
    ("who owns {}", (PROJECTS,)),
    ("what is on {} at {}", (WEEKDAYS, TIMES)),
    ("my plans for {}", (MONTHS,)),
    ("anything about {} and {}", (NAMES, CITIES)),
    ("did {} recommend a restaurant in {}", (NAMES, CITIES)),
    ("what does my {} {} like", (RELATIVES, NAMES)),
    ("how do I take my coffee at {}", (COMPANIES,)),
    ("who do I know at {} in {}", (COMPANIES, CITIES)),
    ("which language for {}", (CITIES,)),
    ("what about my pet {}", (PETS,)),
    ("{} hobby", (HOBBIES,)),
    ("seat preference for a flight to {}", (CITIES,)),
    ("what did {} say about {}", (NAMES, PROJECTS)),
    ("is {} allergic to {}", (NAMES, FOODS)),
    ("who introduced me to {} in {}", (NAMES, CITIES)),
    ("does my {} like {}", (RELATIVES, DISHES)),
    ("{} notes from {}", (PROJECTS, WEEKDAYS)),
)


def _all_texts(templates: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...], seed: int) -> list[str]:
    """Each template's texts shuffled, then taken round-robin, so every prefix of the list mixes all
    templates evenly (a pool of a few thousand is not all three-slot sentences)."""
    rng = random.Random(seed)
    columns = []
    for template, slots in templates:
        texts = [template.format(*words) for words in itertools.product(*slots)]
        rng.shuffle(texts)
        columns.append(texts)
    interleaved = (text for row in itertools.zip_longest(*columns) for text in row if text is not None)
    return list(dict.fromkeys(interleaved))


def memory_texts(seed: int) -> list[str]:
    """Every distinct memory text (tens of thousands), in a seeded order."""
    return _all_texts(MEMORY_TEMPLATES, seed)


def query_texts(seed: int) -> list[str]:
    """Every distinct search text (tens of thousands), in a seeded order."""
    return _all_texts(QUERY_TEMPLATES, seed)


def endless(texts: list[str], tag_seed: int) -> Iterator[str]:
    """``texts`` once, then the same texts with a short reference tag appended (``ref k7q2``), so a
    long run never repeats a text."""
    yield from texts
    rng = random.Random(tag_seed)
    alphabet = string.ascii_lowercase + string.digits
    while True:
        tag = "".join(rng.choices(alphabet, k=4))
        yield from (f"{text} (ref {tag})" for text in texts)
