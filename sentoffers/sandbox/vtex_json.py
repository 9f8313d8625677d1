"""The catalog rendered in VTEX's shapes and casing, as in vtex-platform-subset.openapi.json.

``sku_context`` is ``GetSKUandContext`` (SKU by id), ``product_json`` the Get Product by ID
body, ``productget_json`` the productget variant (with ``ListStoreId``) and ``simulation``
the fulfillment simulation's orderForm. Image URLs are built on ``image_base`` (the
platform's own address), where the platform serves a small picture for each.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sentoffers.sandbox.catalog import Image, Price, Product, SandboxCatalog, Sku

SELLER_ID = "1"
CUBIC_WEIGHT_FACTOR = 6000.0


def image_url(image_base: str, image: Image) -> str:
    """An image's URL in VTEX's form (``/arquivos/ids/{fileId}/{name}.jpg``)."""
    return f"{image_base}/arquivos/ids/{image.file_id}/{image.name}.jpg"


def _dimensions(sku: Sku) -> tuple[dict[str, float], dict[str, float]]:
    d = sku.dimension
    cubic = round(d.height * d.width * d.length / CUBIC_WEIGHT_FACTOR, 4)
    plain = {
        "cubicweight": cubic,
        "height": d.height,
        "length": d.length,
        "weight": d.weight,
        "width": d.width,
    }
    real = {
        "realCubicWeight": cubic,
        "realHeight": d.height,
        "realLength": d.length,
        "realWeight": d.weight,
        "realWidth": d.width,
    }
    return plain, real


def sku_context(sku: Sku, product: Product, image_base: str) -> dict[str, Any]:
    """``GET /api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}``."""
    dimension, real_dimension = _dimensions(sku)
    images = [
        {
            "ImageUrl": image_url(image_base, image),
            "ImageName": image.label,
            "FileId": image.file_id,
        }
        for image in sku.images
    ]
    name_complete = product.name if sku.name == product.name else f"{product.name} {sku.name}"
    specifications = []
    if sku.specification is not None:
        field_name, value = sku.specification
        specifications.append(
            {
                "FieldId": 100 + len(field_name),
                "FieldName": field_name,
                "FieldValueIds": [zlib.crc32(value.encode()) % 1000],
                "FieldValues": [value],
                "IsFilter": True,
                "FieldGroupId": 1,
                "FieldGroupName": "Specifications",
            }
        )
    path = f"/{product.department_id}/{product.category_id}/"
    return {
        "Id": sku.id,
        "ProductId": product.id,
        "NameComplete": name_complete,
        "ComplementName": "",
        "ProductName": product.name,
        "ProductDescription": product.description,
        "ProductRefId": product.ref_id,
        "TaxCode": "",
        "SkuName": sku.name,
        "IsActive": sku.is_active,
        "IsTransported": True,
        "IsInventoried": True,
        "IsGiftCardRecharge": False,
        "ImageUrl": images[0]["ImageUrl"] if images else "",
        "DetailUrl": f"/{product.link_id}/p",
        "CSCIdentification": None,
        "BrandId": str(product.brand_id),
        "BrandName": product.brand,
        "IsBrandActive": True,
        "Dimension": dimension,
        "RealDimension": real_dimension,
        "ManufacturerCode": "",
        "IsKit": False,
        "KitItems": [],
        "Services": [],
        "Categories": [],
        "CategoriesFullPath": [path, f"/{product.department_id}/"],
        "Attachments": [],
        "Collections": [],
        "SkuSellers": [
            {
                "SellerId": SELLER_ID,
                "StockKeepingUnitId": sku.id,
                "SellerStockKeepingUnitId": str(sku.id),
                "IsActive": True,
                "FreightCommissionPercentage": 0,
                "ProductCommissionPercentage": 0,
            }
        ],
        "SalesChannels": sorted(sku.sales_channels),
        "Images": images,
        "Videos": [],
        "SkuSpecifications": specifications,
        "ProductSpecifications": [],
        "ProductClustersIds": "",
        "PositionsInClusters": {},
        "ProductClusterNames": {},
        "ProductClusterHighlights": {},
        "ProductCategoryIds": path,
        "IsDirectCategoryActive": True,
        "ProductGlobalCategoryId": None,
        "ProductCategories": {
            str(product.category_id): product.category,
            str(product.department_id): product.department,
        },
        "CommercialConditionId": 1,
        "RewardValue": 0.0,
        "AlternateIds": {"Ean": sku.ean, "RefId": sku.ref_id},
        "AlternateIdValues": [sku.ean, sku.ref_id],
        "EstimatedDateArrival": None,
        "MeasurementUnit": "un",
        "UnitMultiplier": 1.0,
        "InformationSource": "Indexer",
        "ModalType": None,
        "KeyWords": product.keywords,
        "ReleaseDate": product.release_date,
        "ProductIsVisible": True,
        "ShowIfNotAvailable": True,
        "IsProductActive": product.is_active,
        "ProductFinalScore": 0,
    }


def product_json(product: Product) -> dict[str, Any]:
    """``GET /api/catalog/pvt/product/{productId}``."""
    short = product.description[:120]
    return {
        "Id": product.id,
        "Name": product.name,
        "DepartmentId": product.department_id,
        "CategoryId": product.category_id,
        "BrandId": product.brand_id,
        "LinkId": product.link_id,
        "RefId": product.ref_id,
        "IsVisible": True,
        "Description": product.description,
        "DescriptionShort": short,
        "ReleaseDate": product.release_date,
        "KeyWords": product.keywords,
        "Title": product.name,
        "IsActive": product.is_active,
        "TaxCode": "",
        "MetaTagDescription": short,
        "SupplierId": 1,
        "ShowWithoutStock": True,
        "AdWordsRemarketingCode": "",
        "LomadeeCampaignCode": "",
        "Score": 1,
    }


def productget_json(product: Product, skus: Sequence[Sku]) -> dict[str, Any]:
    """``GET /api/catalog_system/pvt/products/productget/{productId}``: trade policies too."""
    body = product_json(product)
    del body["Score"]
    body["ListStoreId"] = sorted({channel for sku in skus for channel in sku.sales_channels})
    return body


@dataclass(frozen=True, slots=True)
class SimulationLine:
    """One requested item: ``id``, ``quantity`` and ``seller`` as sent."""

    sku_id: str
    quantity: int
    seller: str


def _item(index: int, line: SimulationLine, price: Price, valid_until: str) -> dict[str, Any]:
    selling, quantity = price.selling_price, line.quantity
    tags = []
    if selling != price.price:
        discount = (selling - price.price) * quantity
        tags.append(
            {
                "name": "DISCOUNT@MARKETPLACE",
                "value": discount,
                "rawValue": discount / 100,
                "isPercentual": False,
                "identifier": f"promo-{line.sku_id}",
            }
        )
    return {
        "id": line.sku_id,
        "requestIndex": index,
        "quantity": quantity,
        "seller": line.seller,
        "sellerChain": [line.seller],
        "tax": 0,
        "taxCode": "",
        "priceValidUntil": valid_until,
        "price": price.price,
        "listPrice": price.list_price,
        "rewardValue": 0,
        "sellingPrice": selling,
        "offerings": [],
        "priceTags": tags,
        "measurementUnit": "un",
        "unitMultiplier": 1,
        "parentItemIndex": None,
        "parentAssemblyBinding": None,
        "availability": "available",
        "priceDefinition": {
            "calculatedSellingPrice": selling,
            "total": selling * quantity,
            "sellingPrices": [{"value": selling, "quantity": quantity}],
        },
    }


def _logistics(index: int, quantity: int, stock: int, postal_code: str | None) -> dict[str, Any]:
    slas = []
    if postal_code and stock >= quantity:
        slas.append(
            {
                "id": "Normal",
                "deliveryChannel": "delivery",
                "name": "Normal",
                "deliveryIds": [{"courierId": "1", "warehouseId": "1_1", "dockId": "1"}],
                "shippingEstimate": "3bd",
                "shippingEstimateDate": None,
                "lockTTL": "10d",
                "price": 1500,
                "listPrice": 1500,
                "tax": 0,
                "pickupStoreInfo": {
                    "isPickupStore": False,
                    "friendlyName": None,
                    "address": None,
                    "additionalInfo": None,
                    "dockId": None,
                },
                "pickupPointId": None,
                "pickupDistance": 0,
                "polygonName": None,
                "transitTime": "3bd",
            }
        )
    return {
        "itemIndex": index,
        "addressId": None,
        "selectedSla": "Normal" if slas else None,
        "selectedDeliveryChannel": "delivery" if slas else None,
        "quantity": quantity,
        "shipsTo": ["BRA"],
        "slas": slas,
        "deliveryChannels": [{"id": "delivery"}],
        # The stock a connector reads for the inventory, as in VTEX's logisticsInfo.
        "stockBalance": stock,
    }


def _unavailable(line: SimulationLine, why: str) -> dict[str, Any]:
    return {
        "code": "ORD027",
        "text": f"Item {line.sku_id} não encontrado ou indisponível ({why})",
        "status": "error",
        "fields": {"id": line.sku_id, "seller": line.seller},
    }


def simulation(
    catalog: SandboxCatalog,
    lines: Sequence[SimulationLine],
    *,
    sales_channel: int,
    country: str | None,
    postal_code: str | None,
    geo_coordinates: Sequence[float] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``POST /api/checkout/pub/orderForms/simulation`` in one trade policy.

    A SKU that is unknown, from another seller, inactive, outside the trade policy or without a
    price there is left out of ``items`` with an error in ``messages`` (connectors then zero
    its stock). Out of stock: ``availability`` ``withoutStock`` and ``stockBalance`` 0.
    """
    now = now or datetime.now(UTC)
    valid_until = (now + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items: list[dict[str, Any]] = []
    logistics: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    metadata: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        found = catalog.sku_and_product(int(line.sku_id)) if line.sku_id.isdigit() else None
        if found is None or line.seller != SELLER_ID:
            messages.append(_unavailable(line, "not found"))
            continue
        sku, product = found
        price = sku.prices.get(sales_channel)
        if not (sku.is_active and product.is_active) or sales_channel not in sku.sales_channels:
            messages.append(_unavailable(line, "not available in this trade policy"))
            continue
        if price is None:
            messages.append(_unavailable(line, "no price in this trade policy"))
            continue
        item = _item(index, line, price, valid_until)
        if sku.stock < line.quantity:
            item["availability"] = "withoutStock"
        logistics.append(_logistics(len(items), line.quantity, sku.stock, postal_code))
        items.append(item)
        metadata.append(
            {
                "id": line.sku_id,
                "seller": line.seller,
                "name": sku.name,
                "skuName": sku.name,
                "productId": str(product.id),
                "refId": sku.ref_id,
                "ean": sku.ean,
                "assemblyOptions": [],
            }
        )
    total = sum(item["priceDefinition"]["total"] for item in items)
    return {
        "items": items,
        "ratesAndBenefitsData": {"rateAndBenefitsIdentifiers": [], "teaser": []},
        "paymentData": {
            "installmentOptions": [],
            "paymentSystems": [],
            "payments": [],
            "giftCards": [],
            "giftCardMessages": [],
            "availableAccounts": [],
            "availableTokens": [],
            "availableAssociations": {},
        },
        "selectableGifts": [],
        "marketingData": None,
        "postalCode": postal_code,
        "country": country or "BRA",
        "geoCoordinates": list(geo_coordinates or []),
        "logisticsInfo": logistics,
        "messages": messages,
        "purchaseConditions": {
            "itemPurchaseConditions": [
                {
                    "id": item["id"],
                    "seller": item["seller"],
                    "sellerChain": item["sellerChain"],
                    "slas": logistics[index]["slas"],
                    "price": item["sellingPrice"],
                    "listPrice": item["listPrice"],
                }
                for index, item in enumerate(items)
            ]
        },
        "pickupPoints": [],
        "subscriptionData": None,
        "totals": [{"id": "Items", "name": "Total dos Itens", "value": total}],
        "itemMetadata": {"items": metadata},
    }
