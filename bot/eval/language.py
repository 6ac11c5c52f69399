"""The language of an answer, by stopwords: the share of a text's words that are among a language's most
common function words, highest wins.

Support answers are short and full of names, order ids and product words, where the function words carry
the language; `bench/eval_language.py` measures this scorer on labelled answers. Only the languages below
are told apart; a text with too few known words is ``None`` (undecided), which an expectation reports.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an and or of to in on at for with is are was were be been have has had do does did you your "
        "we our it its this that these those not can will would should please if from by as my me i "
        "there their they he she what when where how which about"
    ),
    "de": _words(
        "der die das den dem des ein eine einen einem einer und oder ist sind war waren sein haben hat "
        "hatte ich sie wir ihr ihre ihren ihrem es nicht kein keine mit von zu zum zur im in auf für bei "
        "wie was wo wann bitte können kann wird werden noch auch nach über aus dass mein meine meinen "
        "unser unsere uns ihnen gerne hier mir mich dir alle aller nur schon sehr dann weil wenn aber denn"
    ),
    "fr": _words(
        "le la les un une des et ou est sont était être avoir a ont je vous nous il elle ils elles ne pas "
        "de du au aux en dans sur pour par avec que qui quoi où quand comment votre vos notre nos mon ma "
        "mes ce cette ces se sa son ses plus très bien merci peut pouvez"
    ),
    "es": _words(
        "el la los las un una unos unas y o es son era ser estar está están he ha han yo usted ustedes "
        "nosotros no de del al en con por para que qué quien cuando cuándo como cómo donde dónde su sus "
        "mi mis nuestro nuestra se le lo muy gracias puede puedo hay"
    ),
    "it": _words(
        "il lo la i gli le un uno una e o è sono era essere avere ho ha hanno io lei noi non di del della "
        "dei al alla in con per che chi quando come dove suo sua mio mia nostro si ci molto grazie degli "
        "dalla dello nella sulla alle agli può"
    ),
    "nl": _words(
        "de het een en of is zijn was waren hebben heeft had ik u jij je wij we niet geen met van voor in "
        "op aan bij naar over uit dat die wat waar wanneer hoe uw mijn ons onze ook nog kunt kan wordt "
        "worden graag"
    ),
    "pt": _words(
        "o a os as um uma e ou é são era ser estar está estão tem têm eu você vocês nós não de do da dos "
        "das no na em com por para que quem quando como onde seu sua meu minha nosso nossa se muito "
        "obrigado pode posso"
    ),
}
LANGUAGES = tuple(sorted(_STOPWORDS))
MIN_KNOWN_WORDS = 2
"""Fewer stopwords than this in a text: undecided."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CODE = re.compile(r"```.*?```|`[^`]*`|https?://\S+", re.DOTALL)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is most likely in, or None when it cannot tell."""
    words = [word.casefold() for word in _WORD.findall(_CODE.sub(" ", text))]
    if not words:
        return None
    scores = {code: sum(word in stop for word in words) for code, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    if scores[best] < MIN_KNOWN_WORDS:
        return None
    return best
