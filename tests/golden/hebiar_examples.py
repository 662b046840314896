"""The Hebiar OMS documents' own examples (CreateOrderItemLineCancelRequest and the pages around it), as data.

Sample JSON in the platform's pages has trailing commas; these are the same values, valid JSON.
"""

from __future__ import annotations

from typing import Any

CANCEL_REQUEST_BODY = [{"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 137,
                        "reasonDesc": "sebep açıklaması"}]
CANCEL_REQUEST_RESPONSE = {"isSuccess": True, "statusCode": 200}
CANCEL_LIST_BODY = [{"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 151,
                     "reasonDesc": "Vazgeçtim"}]
CANCEL_LIST_RESPONSE = {"isSuccess": True, "statusCode": 0}
LOGIN_RESPONSE = {"token": "eyJhbGciOiJIUzI1NiJ9.e30.x", "expire": "2023-09-24T14:10:46Z", "isSuccess": True,
                  "statusCode": None}
REASONS_RESPONSE = [
    {"orderStatusReasonId": 1, "orderStatusReason": None, "reasonName": "Stok yok", "id": 135,
     "createdAt": "2023-05-25T19:56:19.489+03:00"},
    {"orderStatusReasonId": 2, "orderStatusReason": None, "reasonName": "Müşteri isteği", "id": 136,
     "createdAt": "2023-05-25T19:56:19.489+03:00"},
]

_ADDRESS = {"id": 894336, "firstName": "ALİ", "lastName": "HAZAR", "company": None,
            "address1": "Zaviye, ***** / ***", "address2": "-", "city": "Malatya", "cityCode": None,
            "district": "Yeşilyurt", "districtId": None, "postalCode": "11111", "countryCode": "TR",
            "neighborhoodId": None, "neighborhood": "Zaviye", "phone": "905312250102", "fullName": "ALİ HAZAR",
            "fullAddress": "Zaviye, ***** / ***"}
_INVOICE = {**{k: v for k, v in _ADDRESS.items() if k != "cityCode"}, "id": 894335, "cityId": None,
            "taxOffice": None, "taxNumber": None}
_PAYMENT_KEYS = ("captureTransactionResult", "captureTransactionId", "authorizationTransactionResult",
                 "authorizationTransactionCode", "authorizationTransactionId", "cardExpirationYear",
                 "subscriptionTransactionId", "cardExpirationMonth", "maskedCreditCardNumber", "cardNumber",
                 "cardName", "cardType", "cardFamily", "cardIssuer", "bankName", "fraudScore", "posName",
                 "allowStoringCreditCardNumber", "cardCvv2", "paidDateUtc", "installmentCount", "paymentStatus",
                 "total", "paymentMethod", "paymentType", "paymentAgent", "transferBankName", "iban")
_UNIT = {"id": 851696, "productName": "Beestar Çizim Seti 4'lü", "sourceOrderItemLineId": "3124010971725196-26014919-1",
         "sourceOrderItemId": "3124010971725196-26014919", "orderItemId": 785144, "orderId": 402396,
         "sku": "26014919", "barcode": "8690345727803", "vendorId": None, "lastPackageId": 448139,
         "lastPackageItemId": 848412, "quantity": 1, "isReturn": None, "returnReason": "Vazgeçtim",
         "returnReasonDesc": "-", "isCancel": True, "rejectReason": None, "rejectReasonDesc": None,
         "isAvaibleCancelRequest": False, "isAvaibleReturnRequest": False, "saleTotal": 5.62,
         "returnLineAttachments": None}
#: GET /orders/GetOrderPackages, the "Örnek API Yanıtı" of the platform's page: one cancelled package.
ORDER_PACKAGES_RESPONSE: dict[str, Any] = {
    "resultCount": 1, "totalResultCount": 1, "pageSize": 5, "totalPages": 1, "currentPage": 0,
    "isSuccess": True, "statusCode": "200",
    "data": [{
        "shipmentAddress": _ADDRESS,
        "lines": [{"quantity": 1, "productSize": None, "vendorSku": None, "productName": "Beestar Çizim Seti 4'lü",
                   "discountDetails": [], "itemLines": [_UNIT], "productColor": None, "id": 848412,
                   "sku": "26014919", "barcode": "8690345727803", "productPrice": 7.5, "listPrice": 7.5,
                   "productImageUrl": "8/26014919DEFAULT/26014919DEFAULT_857.jpg",
                   "dueDate": "2024-01-12T13:41:26.585+03:00", "currency": "TRY"}],
        "parcels": [],
        "invoiceAddress": _INVOICE,
        "packageHistories": [{"createdDate": "2023-01-01T03:00:00+03:00", "status": "Cancelled"}],
        "payment": dict.fromkeys(_PAYMENT_KEYS),
        "sourcePackageId": "5303724133", "orderNumber": "3124010971725196", "taxNumber": None,
        "customerCode": "b2F5CeP0eE4oBePRkWQrlcqf", "customerFirstName": "ALİ",
        "customerEmail": "ali.hazar@outlook.com.tr", "customerId": 402380, "customerLastName": "HAZAR",
        "id": 448139, "cargoTrackingNumber": "242452881425",
        "cargoTrackingLink": ("https://sube.sendeo.com.tr/takip?ccode=345326&musref=5303724133"
                              "&hash=C7159DD7EF287A1D3CF193F3005F4898"),
        "cargoCode": "SND", "cargoKey": "5303724133", "cargoBarcode": None, "cargoAggrementTypeCode": None,
        "orderDate": "2024-01-09T10:41:26.585+03:00", "dueDate": "2024-01-12T13:41:26.585+03:00",
        "status": "Cancelled", "totalListPrice": 7.5, "totalProductPrice": 7.5,
        "lastModifiedDate": "2024-01-09T10:43:13.262892+03:00", "vendorCode": None, "vendorCompanyName": None,
        "cargoName": "Sendeo Kargo", "channelCode": "WEB", "channelName": "A101 WebShop",
    }],
}
#: The field table of the same page documents the envelope's error fields and these types where the
#: example shows null; kalem follows the table.
ORDER_PACKAGES_TABLE_TYPES = {"isReturn": False, "returnLineAttachments": [], "vendorCode": "string"}


def hook(name: str, status_id: int, status: str, package_type: str = "ShipToCustomer", **extra: Any) -> dict:
    """A webhook sample of §1.6: one item, the package status, and any extra fields."""
    item_extra = {f"packageItemStatus{k[len('packageStatus'):]}": v for k, v in extra.items()
                  if k.startswith("packageStatusReason")}
    return {"hookName": name, "packageId": "BB_pid1692966394724", "packageType": package_type,
            "items": [{"orderItemLineId": "item1692966394138-2", "packageItemStatusId": status_id,
                       "packageItemStatusName": status, **item_extra}],
            "packageStatusId": status_id, "packageStatusName": status, **extra}


CARGO = {"cargoCompanyName": "MNG", "cargoKey": "CargoKey", "cargoTrackingUrl": "https://cargotrackingurl.com",
         "estimatedDate": "2023-08-25T12:52:32.533Z"}
CONFIRMED = hook("CancelOrderItemLineConfirmedEvent", 1302, "Cancelled")
REJECTED = hook("CancelOrderItemLineRejectedEvent", 1324, "CancelRequestDenied", packageStatusReasonId=168,
                packageStatusReasonName="Gönderi Yola Çıktı", packageStatusReasonDesc="")
PACKAGE_CHANGED = hook("OrderPackageStatusChangedEvent", 1308, "Shipped", **CARGO)
RETURN_CHANGED = hook("ReturnOrderPackageStatusChangedEvent", 1308, "Shipped", "Return", **CARGO)
RETURN_CONFIRMED = hook("ReturnOrderPackageConfirmedEvent", 1318, "Returned", "Return")
RETURN_REJECTED = hook("ReturnOrderPackageRejectedEvent", 1305, "ReturnedRequestDenied", "Return",
                       packageStatusReasonId=167, packageStatusReasonName="Eksik Ürün",
                       packageStatusReasonDesc="Kutunun içinden belirtilen ürün çıkmadı")
#: kalem knows a package's tracking number (sent as `cargoKey`) but not its carrier, link or estimate.
CARGO_KNOWN = {"cargoCompanyName": None, "cargoTrackingUrl": None, "estimatedDate": None}
