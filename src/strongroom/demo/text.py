# ruff: noqa: RUF001
# (Cyrillic letters and typographic punctuation are deliberate test data.)
"""Seeded prose for subjects, bodies and documents, in English, Russian, French and German.

No template line begins with "From " so that signed messages never need mbox quoting.
"""

from __future__ import annotations

import random
import textwrap
from datetime import datetime

TOPICS = (
    "convention logistics", "voter registration drive", "debate prep", "donor outreach",
    "press strategy", "field office budget", "volunteer training", "ballot access",
    "platform committee", "digital ads", "rapid response", "state party transfers",
)  # fmt: skip
CITIES = (
    "Millbrook", "Eastport", "Harlow Falls", "Cedar Bend", "Westhaven", "Port Aldon",
    "Greystone", "Lindenfield", "Marlow Creek", "Brackenridge",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
DEPTS = ("finance", "communications", "research", "digital", "field", "legal")

EN_SENTENCES = (
    "Can we move the {topic} call to {day}?",
    "I have attached the latest numbers for {city}.",
    "The {dept} team needs sign-off by {day} at the latest.",
    "Please keep this internal until the announcement.",
    "{first} asked whether the {topic} numbers are final.",
    "We raised ${amount} at the {city} event, ahead of target.",
    "Polling in {city} has us within {pct} points.",
    "Let's not forward this outside the building.",
    "I spoke with the {city} chair and she is on board.",
    "Could you send me the revised draft before the {dept} meeting?",
    "Quick reminder that the {topic} memo goes out {day}.",
    "We’re still waiting on the vendor — can you chase them?",
    "The reporter wants a comment on {topic} by end of day.",
    "Budget for {city} is ${amount}, roughly €{pct},000 over plan.",
    "Thanks for turning this around so quickly.",
    "I think we should hold off until after {day}'s call.",
    "Happy to discuss, but I'd rather not put more in writing.",
    "Legal flagged two lines in the {topic} draft; see my notes.",
    "Attendance at the {city} training was {pct} people.",
    "Let me know if the café on Fifth works for the {topic} meeting.",
    "Who owns the follow-up with the {city} donors?",
    "Schedule is tight {day}; I can give you fifteen minutes.",
)
RU_SENTENCES = (
    "Добрый день! Высылаю обещанные материалы.",
    "Встреча переносится на четверг, в то же время.",
    "Прошу подтвердить получение этого письма.",
    "Мы готовим статью о предвыборной кампании в городе {city}.",
    "Не могли бы вы прокомментировать ситуацию с бюджетом?",
    "Цифры по опросам пришлём отдельным письмом.",
    "Спасибо за быстрый ответ, это очень помогло.",
    "Наш редактор просит уточнить несколько деталей.",
    "Документы в приложении, посмотрите, пожалуйста, до пятницы.",
    "Ещё раз спасибо за интервью.",
)
FR_SENTENCES = (
    "Bonjour, voici le compte rendu de la réunion de jeudi.",
    "Nous préparons un article sur la campagne à {city}.",
    "Pourriez-vous nous envoyer une déclaration avant vendredi ?",
    "Merci d'avance pour votre réponse rapide.",
    "Le rédacteur en chef souhaite vérifier deux chiffres.",
    "À bientôt, et bonne journée à toute l'équipe.",
)
DE_SENTENCES = (
    "Könnten Sie uns bis Freitag eine Stellungnahme schicken?",
    "Wir bereiten einen Bericht über die Kampagne in {city} vor.",
    "Vielen Dank für das Gespräch gestern.",
    "Die Zahlen für das Frühjahr fehlen noch.",
    "Grüße aus der Redaktion, auch von den Kollegen.",
    "Bitte bestätigen Sie kurz den Empfang dieser Nachricht.",
)
SENTENCES = {"en": EN_SENTENCES, "ru": RU_SENTENCES, "fr": FR_SENTENCES, "de": DE_SENTENCES}

EN_SUBJECTS = (
    "Draft statement on {topic}",
    "{topic} call tomorrow",
    "Budget Q{q} {year}",
    "Press inquiry: {topic}",
    "Volunteer schedule for {city}",
    "Donor follow-up – {city}",
    "{city} event recap",
    "Talking points for {day}",
    "FYI: {topic}",
    "Need your sign-off: {topic}",
    "Numbers for {city}",
)
RU_SUBJECTS = (
    "Встреча в четверг",
    "Материалы по кампании",
    "Вопрос о бюджете",
    "Интервью: {city}",
)
FR_SUBJECTS = ("Demande d'interview", "Réunion à {city}", "Question sur le budget")
DE_SUBJECTS = ("Anfrage: Stellungnahme", "Bericht über {city}", "Rückfrage zu den Zahlen")
SUBJECTS = {"en": EN_SUBJECTS, "ru": RU_SUBJECTS, "fr": FR_SUBJECTS, "de": DE_SUBJECTS}

GREETINGS = {"en": ("Hi {first},", "{first} -", "Hello {first},"), "ru": ("Здравствуйте!",)}
GREETINGS_OTHER = {"fr": ("Bonjour,",), "de": ("Guten Tag,",)}
CLOSINGS = {"en": ("Thanks,", "Best,", "Cheers,"), "ru": ("С уважением,",)}
CLOSINGS_OTHER = {"fr": ("Cordialement,",), "de": ("Mit freundlichen Grüßen,",)}

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _slots(rng: random.Random, first: str) -> dict[str, str]:
    return {
        "topic": rng.choice(TOPICS),
        "city": rng.choice(CITIES),
        "day": rng.choice(DAYS),
        "dept": rng.choice(DEPTS),
        "first": first,
        "amount": f"{rng.randrange(2, 450) * 250:,}",
        "pct": str(rng.randrange(2, 40)),
        "q": str(rng.randrange(1, 5)),
        "year": str(rng.choice((2015, 2016))),
    }


def subject(rng: random.Random, lang: str, first: str) -> str:
    return rng.choice(SUBJECTS[lang]).format(**_slots(rng, first))


def paragraphs(rng: random.Random, lang: str, first: str, count: int) -> list[str]:
    out = []
    for _ in range(count):
        picked = [rng.choice(SENTENCES[lang]) for _ in range(rng.randrange(1, 4))]
        out.append(" ".join(s.format(**_slots(rng, first)) for s in picked))
    return out


def greeting(rng: random.Random, lang: str, first: str) -> str:
    options = GREETINGS.get(lang) or GREETINGS_OTHER[lang]
    return rng.choice(options).format(first=first)


def closing(rng: random.Random, lang: str) -> str:
    return rng.choice(CLOSINGS.get(lang) or CLOSINGS_OTHER[lang])


def wrap(paragraph: str, width: int = 72) -> list[str]:
    return textwrap.wrap(paragraph, width=width, break_on_hyphens=False) or [""]


def attribution_date(when: datetime) -> str:
    """'Tue, Jan 5, 2016 at 10:11 AM' without relying on the process locale."""
    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    return (
        f"{WEEKDAYS[when.weekday()]}, {MONTHS[when.month - 1]} {when.day}, {when.year} "
        f"at {hour}:{when.minute:02d} {ampm}"
    )


def asctime(when: datetime) -> str:
    """ctime()-style date for mbox From_ lines, locale-independent."""
    return (
        f"{WEEKDAYS[when.weekday()]} {MONTHS[when.month - 1]} {when.day:2d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.year}"
    )


def slug(text: str, limit: int = 40) -> str:
    kept = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in text)
    parts = [p for p in kept.split("-") if p]
    return "-".join(parts)[:limit].strip("-") or "message"
