"""The API's pagination: a cursor over each list's own order (DEFAULT_PAGINATION_CLASS).

A page costs one indexed range read: no COUNT(*) over everything the user may see (a
20 000-patient unit's plans) and no OFFSET that grows with the page number. Lists keep the
order their viewset gives them (``order_by`` on the queryset, else the model's
``Meta.ordering``); the primary key is added as the tie-breaker. The first field of that
order must be a plain, non-null column of the model (the cursor holds its value).
"""

from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = (
            getattr(view, "ordering", None)
            or queryset.query.order_by
            or queryset.model._meta.ordering
            or ("-pk",)
        )
        if isinstance(ordering, str):
            ordering = (ordering,)
        fields = tuple(o for o in ordering if isinstance(o, str))
        if len(fields) != len(ordering) or "?" in fields:
            raise TypeError(f"{view!r}: a cursor needs an order of field names, not {ordering!r}")
        if fields[-1].lstrip("-") not in ("pk", "id"):
            fields += ("-pk" if fields[0].startswith("-") else "pk",)
        return fields

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """The cursor is base64 (DRF's ``encode_cursor``): say so in the schema, so a
        client (and schemathesis) knows a NUL or other control character is no cursor."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {**parameter["schema"], "pattern": "^[A-Za-z0-9+/=]*$"}
        return parameters
