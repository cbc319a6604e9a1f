"""What the Install button reads: the products the user may file bugs in, their
components, and the value each product's bugs get for the fields a bug needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.bugzilla.service import Bugzilla

PRODUCT_FIELDS = "id,name,components.id,components.name"
# The fields a new bug may need, filled with the value Bugzilla sorts last.
DEFAULT_FIELDS = ("version", "bug_severity", "rep_platform", "op_sys", "priority")


def enterable_products(service: Bugzilla) -> list[dict[str, Any]]:
    """``[{id, name, components: [{id, name}]}]`` for every product the key may enter bugs in."""
    ids = (service.call("GET", "/product_enterable") or {}).get("ids") or []
    if not ids:
        return []
    params = [*(("ids", str(product_id)) for product_id in ids), ("include_fields", PRODUCT_FIELDS)]
    answer = service.call("GET", "/product", params=params) or {}
    return [
        {
            "id": product.get("id"),
            "name": product.get("name"),
            "components": [
                {"id": component.get("id"), "name": component.get("name")}
                for component in product.get("components") or []
            ],
        }
        for product in answer.get("products") or []
    ]


def _sort_key(value: Any) -> int:
    key = value.get("sort_key", value.get("sortkey"))
    return key if isinstance(key, int) else 0


def bug_defaults(fields: Iterable[Any], products: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{product: {field: value}}``: for each of ``DEFAULT_FIELDS`` the active value with
    the highest sort key (among equals, the last listed); a version must be the product's."""
    names = list(products)
    defaults: dict[str, dict[str, Any]] = {name: {} for name in names}
    for field in fields:
        if field.get("name") not in DEFAULT_FIELDS:
            continue
        values = sorted(
            (v for v in field.get("values") or [] if v.get("is_active", True) is not False),
            key=_sort_key,
        )
        for name in names:
            allowed = [
                value
                for value in values
                if field.get("value_field") != "product"
                or name in (value.get("visibility_values") or [])
            ]
            if allowed:
                defaults[name][field["name"]] = allowed[-1].get("name")
    return defaults


def load(service: Bugzilla) -> None:
    """Fill ``meta_data.products`` and ``meta_data.defaults``."""
    products = enterable_products(service)
    fields = (service.call("GET", "/field/bug") or {}).get("fields") or []
    service.meta_data.products = products
    service.meta_data.defaults = bug_defaults(fields, [str(p["name"]) for p in products])
