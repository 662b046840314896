"""The reason catalog: why a unit was cancelled, returned, or a request denied.

Catalogs are data. kalem's own catalog uses the ids of the Hebiar OMS tenant samples (135, 136,
137, 151, 167, 168 are documented; the rest are kalem's choice), so the native API and the Hebiar
face share one set of ids. n11's catalog is fixed by n11 (61–65).

Every reason, whichever catalog holds it, has a `code` from one shared vocabulary (`out_of_stock`,
`defective`, `wrong_price`, …): an n11 cancel with reason 61 (Stok Tükendi) is `out_of_stock` wherever
it is rendered, as kalem's 135 is. The catalogs' ids never overlap, so an id alone names its reason;
each platform maps the shared codes to its own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalem.domain.errors import UnknownReason


class StatusType(StrEnum):
    CANCELLED = "Cancelled"
    RETURNED = "Returned"
    CANCEL_REQUEST_DENIED = "CancelRequestDenied"
    RETURN_REQUEST_DENIED = "ReturnRequestDenied"


@dataclass(frozen=True, slots=True)
class Reason:
    id: int
    platform: str
    status_type: StatusType
    code: str
    name_tr: str
    name_en: str


_C, _R = StatusType.CANCELLED, StatusType.RETURNED
_CD, _RD = StatusType.CANCEL_REQUEST_DENIED, StatusType.RETURN_REQUEST_DENIED

CATALOG: tuple[Reason, ...] = (
    Reason(135, "kalem", _C, "out_of_stock", "Stok yok", "Out of stock"),
    Reason(136, "kalem", _C, "customer_request", "Müşteri isteği", "Customer request"),
    Reason(137, "kalem", _C, "seller_request", "Satıcı talebi", "Seller request"),
    Reason(138, "kalem", _C, "fraud", "Fraud", "Fraud"),
    Reason(139, "kalem", _C, "wrong_price", "Hatalı fiyat", "Wrong price"),
    Reason(140, "kalem", _C, "defective", "Kusurlu ürün", "Defective product"),
    Reason(151, "kalem", _C, "changed_mind", "Vazgeçtim", "Changed my mind"),
    Reason(151, "kalem", _R, "changed_mind", "Vazgeçtim", "Changed my mind"),
    Reason(152, "kalem", _R, "defective", "Kusurlu ürün", "Defective product"),
    Reason(153, "kalem", _R, "wrong_item", "Yanlış ürün gönderildi", "Wrong item sent"),
    Reason(154, "kalem", _R, "not_as_described", "Ürün açıklamadaki gibi değil", "Not as described"),
    Reason(168, "kalem", _CD, "shipment_dispatched", "Gönderi Yola Çıktı", "Shipment already dispatched"),
    Reason(169, "kalem", _CD, "already_prepared", "Ürün hazırlandı", "Already prepared"),
    Reason(167, "kalem", _RD, "missing_product", "Eksik Ürün", "Missing product"),
    Reason(170, "kalem", _RD, "used_product", "Kullanılmış ürün", "Product was used"),
    Reason(61, "n11", _C, "out_of_stock", "Stok Tükendi", "Out of stock"),
    Reason(62, "n11", _C, "defective", "Kusurlu/Defolu/Bozuk Ürün", "Defective or damaged product"),
    Reason(63, "n11", _C, "wrong_price", "Hatalı Fiyat", "Wrong price"),
    Reason(64, "n11", _C, "force_majeure", "Mücbir Sebep", "Force majeure"),
    Reason(65, "n11", _C, "other", "Diğer", "Other"),
)

_INDEX = {(r.platform, r.status_type, r.id): r for r in CATALOG}
_CODES = {(r.status_type, r.id): r.code for r in CATALOG}


def reasons(status_type: StatusType | None = None, platform: str = "kalem") -> list[Reason]:
    return [r for r in CATALOG if r.platform == platform and status_type in (None, r.status_type)]


def reason(reason_id: int, status_type: StatusType, platform: str = "kalem") -> Reason:
    found = _INDEX.get((platform, status_type, reason_id))
    if found is None:
        raise UnknownReason(
            f"reason {reason_id} is not a {status_type} reason",
            reason_id=reason_id, status_type=status_type.value,
        )
    return found


def shared_code(reason_id: int | None, status_type: StatusType = StatusType.CANCELLED) -> str | None:
    """The shared vocabulary's code of a reason of any catalog (None for an id no catalog holds)."""
    return None if reason_id is None else _CODES.get((status_type, reason_id))
