"""The Hebiar face's responses as pydantic models, for its OpenAPI operations: the OMS's own field
names, one class per envelope (named `Hebiar…`, so no component collides with another face's)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class HebiarResult(BaseModel):
    """The OMS's simple envelope (cancel endpoints)."""
    isSuccess: bool
    statusCode: int | str | None


class HebiarErrorItem(BaseModel):
    code: str
    message: str


class HebiarError(BaseModel):
    """The OMS's rich envelope for a refused request; both spellings of the message field are sent."""
    isSuccess: bool = Field(description="false")
    statusCode: int = Field(description="the HTTP status")
    errorMessage: str
    errorMesssage: str
    errorSource: str
    correlationId: str
    errors: list[HebiarErrorItem]
    data: None


class HebiarLoginResult(BaseModel):
    token: str = Field(description="a JWT for `Authorization: Bearer`")
    expire: str
    isSuccess: bool
    statusCode: None


class HebiarReason(BaseModel):
    orderStatusReasonId: int
    orderStatusReason: str | None
    reasonName: str
    id: int = Field(description="what `reasonId` carries in requests")
    createdAt: str


class HebiarAddress(BaseModel):
    id: int
    firstName: str | None
    lastName: str | None
    company: str | None
    address1: str | None
    address2: str | None
    city: str | None
    cityCode: None = Field(None, description="shipment addresses")
    cityId: None = Field(None, description="invoice addresses")
    district: str | None
    districtId: None
    postalCode: str | None
    countryCode: str | None
    neighborhoodId: None
    neighborhood: str | None
    phone: str | None
    fullName: str | None
    fullAddress: str | None
    taxOffice: str | None = Field(None, description="invoice addresses")
    taxNumber: str | None = Field(None, description="invoice addresses")


class HebiarDiscount(BaseModel):
    discountTypeId: str | None
    couponCode: str | None
    discountId: str | None
    amount: float
    realAmount: float
    discountName: str | None
    discountCode: str | None


class HebiarItemLine(BaseModel):
    """One unit: `sourceOrderItemLineId` is `<sourceOrderItemId>-<n>`."""
    id: int
    productName: str
    sourceOrderItemLineId: str
    sourceOrderItemId: str
    orderItemId: int
    orderId: int
    sku: str
    barcode: str | None
    vendorId: None
    lastPackageId: int
    lastPackageItemId: int
    quantity: int
    isReturn: bool
    returnReason: str | None
    returnReasonDesc: str | None
    isCancel: bool
    rejectReason: str | None
    rejectReasonDesc: str | None
    isAvaibleCancelRequest: bool
    isAvaibleReturnRequest: bool
    saleTotal: float
    returnLineAttachments: list[Any]


class HebiarLine(BaseModel):
    quantity: int
    productSize: None
    vendorSku: None
    productName: str
    discountDetails: list[HebiarDiscount]
    itemLines: list[HebiarItemLine]
    productColor: None
    id: int
    sku: str
    barcode: str | None
    productPrice: float
    listPrice: float
    productImageUrl: None
    dueDate: str | None
    currency: str


class HebiarHistory(BaseModel):
    createdDate: str
    status: str


class HebiarPackage(BaseModel):
    shipmentAddress: HebiarAddress | None
    lines: list[HebiarLine]
    parcels: list[Any]
    invoiceAddress: HebiarAddress | None
    packageHistories: list[HebiarHistory]
    payment: dict[str, Any] = Field(description="the OMS's payment object; card fields are always null")
    sourcePackageId: str
    orderNumber: str
    taxNumber: str | None
    customerCode: str | None
    customerFirstName: str | None
    customerEmail: str | None
    customerId: int | None
    customerLastName: str | None
    id: int
    cargoTrackingNumber: str | None
    cargoTrackingLink: None
    cargoCode: None
    cargoKey: str | None
    cargoBarcode: None
    cargoAggrementTypeCode: None
    orderDate: str
    dueDate: str | None
    status: str
    totalListPrice: float
    totalProductPrice: float
    lastModifiedDate: str
    vendorCode: str
    vendorCompanyName: str | None
    cargoName: None
    channelCode: str | None
    channelName: str | None


class HebiarPackagePage(BaseModel):
    isSuccess: bool
    statusCode: str
    errorMesssage: None
    errorSource: None
    correlationId: None
    errors: list[HebiarErrorItem]
    data: list[HebiarPackage]
    resultCount: int
    totalResultCount: int
    pageSize: int
    totalPages: int
    currentPage: int


_WHY = {400: "Malformed JSON", 401: "Missing or invalid credentials", 404: "Unknown — or another seller's — unit line",
        409: "The unit's state does not allow it", 413: "Body too large", 422: "Invalid input",
        429: "Too many requests for this credential; see Retry-After"}


def responses(ok: type[BaseModel] | Any, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation: its 200 body and each refusal it can answer, in the OMS envelope."""
    return {200: {"model": ok, "description": "OK"},
            **{status: {"model": HebiarError, "description": _WHY[status]} for status in statuses}}
