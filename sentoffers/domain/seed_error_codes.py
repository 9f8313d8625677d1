"""The error-code list the service is seeded with: the official contract's codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorCode:
    id: str
    type: str
    description: str
    solution_text: str | None = None
    solution_link: str | None = None


SEED_ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode(
        id="AUTH-001",
        type="Authorization",
        description="Authorization errors where the user can solve by himself just fixing something on the settings. For example, when the user/password is invalid, or a register field is missing...",
        solution_text="Check connector settings",
        solution_link="http://{accountName}.myvtex.com/admin/bridge/#/settings",
    ),
    ErrorCode(
        id="AUTH-002",
        type="Authorization",
        description="Authorization errors where the user can't solve by himself and depends on someone else to solve. For example, when the user has no access to a specific resource",
    ),
    ErrorCode(
        id="CTLG-001",
        type="Generic mapping",
        description="Catalog mapping errors different from variation, attribute or category errors. For example, brand mapping or a specific field of that channel.",
        solution_text="Check mapping spreadsheet",
        solution_link="http://{accountName}.myvtex.com/admin/bridge/#/settings",
    ),
    ErrorCode(
        id="CTLG-002",
        type="Variation mapping",
        description="Errors of variation mapping (SKU specifications). For example, when a color field/value is not mapped correctly.",
        solution_text="Check mapping spreadsheet",
        solution_link="http://{accountName}.myvtex.com/admin/bridge/#/settings",
    ),
    ErrorCode(
        id="CTLG-003",
        type="Attribute mapping",
        description="Errors of attribute mapping (product specifications). For example, when product specifications are not mapped correctly.",
        solution_text="Check mapping spreadsheet",
        solution_link="http://{accountName}.myvtex.com/admin/bridge/#/settings",
    ),
    ErrorCode(
        id="CTLG-004",
        type="Category mapping",
        description="Errors of category mapping. For example, when a category ID is not correct; when the user has mapped the parent-category instead of the child-category.",
        solution_text="Check mapping spreadsheet",
        solution_link="http://{accountName}.myvtex.com/admin/bridge/#/settings",
    ),
    ErrorCode(
        id="CTLG-005",
        type="Product info",
        description="Generic errors of product information sending. For any case different that the other product information error codes don't support",
        solution_text="Check item on catalog",
        solution_link="http://{accountName}.myvtex.com/admin/Site/ProdutoForm.aspx",
    ),
    ErrorCode(
        id="CTLG-006",
        type="Description",
        description="Description is not according as expected by the channel. For example, when the description is too long; when has HTML; when there is no description and is a mandatory field...",
        solution_text="Fix description",
        solution_link="http://{accountName}.myvtex.com/admin/Site/ProdutoForm.aspx?id={productId}",
    ),
    ErrorCode(
        id="CTLG-007",
        type="Images",
        description="Images are not according as expected by the channel. For example, when the image must have white background; when has no images and is mandatory to have at least one...",
        solution_text="Fix images",
        solution_link="http://{accountName}.myvtex.com/admin/Site/SkuForm.aspx?idSku={skuId}",
    ),
    ErrorCode(
        id="CTLG-008",
        type="Dimensions",
        description="Dimensions are not according as expected by the channel. For example, when the weight is below the minimum required; when the dimensions are not filled and is a mandatory field...",
        solution_text="Check dimensions",
        solution_link="http://{accountName}.myvtex.com/admin/Site/SkuForm.aspx?idSku={skuId}",
    ),
    ErrorCode(
        id="CTLG-009",
        type="Title",
        description="Title is not according as expected by the channel. For example, when the title is too long; when the title doesn't meet the channel taxonomy...",
        solution_text="Check title",
        solution_link="http://{accountName}.myvtex.com/admin/Site/ProdutoForm.aspx?id={productId}",
    ),
    ErrorCode(
        id="CTLG-010",
        type="Identifiers",
        description="Identifier is not according as expected by the channel. For example, when a EAN, ISBN or UPC is invalid; when a identifier is required but is not filled...",
        solution_text="Fix item's identifier",
        solution_link="http://{accountName}.myvtex.com/admin/Site/SkuForm.aspx?idSku={skuId}",
    ),
    ErrorCode(
        id="CTLG-011",
        type="Channels' rules",
        description="Errors due channel's business rules that cannot be solved by the user. For example, when the product category is not supported by the channel; when a currency is not supported by the channel...",
    ),
    ErrorCode(
        id="CTLG-012",
        type="Moderation",
        description="Ad moderated, it does not comply with Mercado Livre policies",
        solution_text="Apply the actions in the moderation section",
    ),
    ErrorCode(
        id="INVNT-001",
        type="Inventory",
        description="Errors directly related to all inventory scenarios. This scenarios are for every issue that blocks an inventory from being updated. For example, when the channel has a rule of minimum quantity of inventory for all SKUs of a product.",
        solution_text="Check inventory levels",
        solution_link="http://{accountName}.myvtex.com/admin/inventory/?skuId={skuId}",
    ),
    ErrorCode(
        id="NTMAP-001",
        type="Not mapped",
        description="Errors not mapped by the connector. Commonly, it occurs when the channel's API starts to validate new things without communicating to the connector.",
    ),
    ErrorCode(
        id="PRICE-001",
        type="Price",
        description="Errors directly related to all price scenarios. This scenarios are for every issue that blocks a price from being updated. For example, when a price changes on rate that is not allowed by the marketplace.",
        solution_text="Fix price",
        solution_link="http://{accountName}.myvtex.com/admin/pricing/#/prices/?page=1&qtd=10&productId={productId}&productName=%22%22",
    ),
)
