"""The n11 face's answers as OpenAPI models, with n11's own field names (component names `N11…`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class N11Error(BaseModel):
    """Every refusal: HTTP 400 (429 over the rate limit), the reason in `errorCode`."""
    code: int
    status: str
    errorCode: str
    errorMessage: str
    errorCategory: str


class N11Result(BaseModel):
    code: int
    message: str


class N11SplitPackageOrderItem(BaseModel):
    orderNumber: str
    packageId: str
    orderLineId: int | None
    stockCode: str
    quantity: int


class N11SplitResult(N11Result):
    splitPackageOrderItems: list[N11SplitPackageOrderItem]


class N11UpdatedLine(BaseModel):
    lineId: int
    status: str | None
    reasons: list[str]


class N11UpdateResult(BaseModel):
    content: list[N11UpdatedLine]


class N11Address(BaseModel):
    address: str | None
    city: str | None
    district: str | None
    neighborhood: str | None
    fullName: str | None
    gsm: str | None
    tcId: str | None
    postalCode: str | None
    taxId: str | None
    taxHouse: str | None
    invoiceType: str | None


class N11PackageHistory(BaseModel):
    createdDate: int
    status: str


class N11VariantAttribute(BaseModel):
    name: str
    value: str


class N11PackageLine(BaseModel):
    orderLineId: int | None
    productId: str | None
    productName: str
    stockCode: str
    barcode: str | None
    quantity: int
    variantAttributes: list[N11VariantAttribute]
    customTextOptionValues: list[Any]
    price: float
    dueAmount: float
    installmentChargeWithVAT: float
    sellerCouponDiscount: float
    sellerDiscount: float
    mallDiscount: float
    sellerInvoiceAmount: float
    totalMallDiscountPrice: float
    totalSellerDiscountPrice: float
    orderItemLineItemStatusName: str
    vatRate: float
    commissionRate: float | None
    taxDeductionRate: float | None
    totalLaborCostExcludingVAT: float | None
    netMarketingFeeRate: float | None
    netMarketplaceFeeRate: float | None


class N11ShipmentPackage(BaseModel):
    id: str
    orderNumber: str
    sellerId: str
    customerId: int | None
    customerfullName: str | None
    customerEmail: str | None
    tcIdentityNumber: str | None
    taxId: str | None
    taxOffice: str | None
    billingAddress: N11Address
    shippingAddress: N11Address
    cargoSenderNumber: str | None
    cargoTrackingNumber: str | None
    cargoTrackingLink: str | None
    shipmentCompanyId: int | None
    cargoProviderName: str | None
    shipmentMethod: int | None
    installmentChargeWithVATprice: float
    lastModifiedDate: int
    agreedDeliveryDate: int | None
    totalAmount: float
    totalDiscountAmount: float
    packageHistories: list[N11PackageHistory]
    shipmentPackageStatus: str
    deliveryAddressType: str | None
    countryCode: str | None
    productOrigin: str | None
    micro: bool | None
    hsCode: str | None
    invoiceLink: str | None
    invoiceDate: int | None
    etgbNo: str | None
    etgbDate: int | None
    lines: list[N11PackageLine]


class N11ShipmentPackagePage(BaseModel):
    pageCount: int
    totalPages: int
    page: int
    size: int
    content: list[N11ShipmentPackage]


def answers(ok: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of an n11 operation: its answer, and the two statuses every refusal takes."""
    return {200: {"model": ok, "description": "Success"},
            400: {"model": N11Error, "description": "Refused: bad input, credentials, or a rule of n11's"},
            429: {"model": N11Error, "description": "Over the credential's rate limit (`SELLER_API.rateLimited`)"}}
