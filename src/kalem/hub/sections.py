"""Hook point: extra sections on the hub's order page.

HOOK — invoices & credit notes, refunds with their breakdown, webhook deliveries (with a replay
button) are built by other capabilities. Each hands one `OrderSection` to the hub when the app is
built (`bootstrap.api.build_app`); the sections are kept on that app, in the order given:

    hub.install(secret_key, sections=[OrderSection("refunds", {"tr": "İadeler", "en": "Refunds"}, render_refunds)])

`render(view)` gets an `OrderSectionView` and returns trusted HTML (build it with a Jinja template
from the hub's environment, which escapes by default) or None to leave the section out. It must
read through `app/` use cases with `view.principal`, so a seller only ever sees its own records.
A section that raises is replaced by a short notice; the rest of the page still renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kalem.app.principals import Principal
from kalem.domain.orders import Order

log = logging.getLogger("kalem.hub")


@dataclass(frozen=True, slots=True)
class OrderSectionView:
    order: Order
    principal: Principal
    lang: str
    uow: Callable[..., Any]  # the unit-of-work factory: `view.uow(write=False)`


@dataclass(frozen=True, slots=True)
class OrderSection:
    key: str
    title: dict[str, str]  # per language; Turkish is the fallback
    render: Callable[[OrderSectionView], str | None]


def rendered_sections(view: OrderSectionView, sections: Sequence[OrderSection]) -> list[tuple[str, str, str | None]]:
    """(key, title, html) of every section; html None means it failed to render."""
    out: list[tuple[str, str, str | None]] = []
    for section in sections:
        try:
            html = section.render(view)
        except Exception:  # noqa: BLE001 - one broken section must not take the order page down
            log.exception("hub: order section %s failed", section.key)
            out.append((section.key, section.title.get(view.lang) or section.title.get("tr", section.key), None))
            continue
        if html is not None:
            out.append((section.key, section.title.get(view.lang) or section.title.get("tr", section.key), html))
    return out
