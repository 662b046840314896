"""Who is calling: an operator (all sellers) or a seller (its own orders only) — through a face that
may narrow it to one channel's orders (a marketplace's or platform's face sees only its own)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalem.domain.errors import InvalidInput, PermissionDenied
from kalem.domain.events import Actor


class OperatorRequired(PermissionDenied):
    """Only an operator may do this."""
    code = "operator_required"
    face_code = PermissionDenied.code


class SellerIdMismatch(PermissionDenied):
    """A seller naming another seller: a seller acts for itself only."""
    code = "seller_id_mismatch"
    face_code = PermissionDenied.code


class SellerIdRequired(InvalidInput):
    """What belongs to a seller (a seller's token, an operator's new order) names the seller."""
    code = "seller_id_required"
    face_code = InvalidInput.code


@dataclass(frozen=True, slots=True)
class Principal:
    role: str  # "operator" | "seller"
    subject: str  # token id or user name
    seller_id: str | None = None
    #: The channel every look-up is narrowed to (a marketplace's face: its own); None: every channel.
    channel: str | None = None

    @property
    def scope(self) -> str | None:
        """The seller every look-up is narrowed to; None for operators."""
        return self.seller_id if self.role == "seller" else None

    def within(self, channel: str) -> Principal:
        """The same caller, seeing only `channel`'s orders."""
        return replace(self, channel=channel)

    def sees(self, seller_id: str, channel: str) -> bool:
        """Whether an order of this seller and channel is within the caller's reach."""
        return self.scope in (None, seller_id) and self.channel in (None, channel)

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.subject, self.seller_id)

    @property
    def key(self) -> str:
        """Whose `Idempotency-Key`s these are: a seller's, whichever of its tokens or users sends one
        (a retry through another credential is the same operation); the operators' together."""
        return f"seller:{self.seller_id}" if self.role == "seller" else "operator"

    def require_operator(self) -> None:
        if self.role != "operator":
            raise OperatorRequired("only an operator may do this")


def seller_for_new_order(principal: Principal, seller_id: str | None) -> str:
    """A seller may only place its own orders; an operator names the seller."""
    if principal.role == "seller":
        if seller_id and seller_id != principal.seller_id:  # absent (None or "") means the caller's own
            raise SellerIdMismatch("a seller may only place its own orders")
        return principal.seller_id  # type: ignore[return-value]
    if not seller_id:
        raise SellerIdRequired("seller_id is required", field="seller_id")
    return seller_id
