"""The hub speaks Turkish (the default: the sellers' language, as on Hebiar's Hub) and English; the labels live in
`labels_tr.py` and `labels_en.py`.

A key missing from a catalog is a bug the tests catch (both catalogs must have the same keys);
at run time it falls back to Turkish, then to the key itself, so a page never breaks over a label.
"""

from __future__ import annotations

from collections.abc import Callable

from kalem.hub.labels_en import EN
from kalem.hub.labels_tr import TR

LANGUAGES = ("tr", "en")
DEFAULT = "tr"
CATALOGS = {"tr": TR, "en": EN}


def translator(lang: str) -> Callable[..., str]:
    catalog = CATALOGS.get(lang, TR)

    def t(key: str, **values: object) -> str:
        text = catalog.get(key) or TR.get(key) or key
        return text.format(**values) if values else text

    return t
