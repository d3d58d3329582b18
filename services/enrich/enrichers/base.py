"""The enricher interface: adding a field is adding one module.

An enricher takes a batch of :class:`~services.enrich.analysis.doc.Doc` and
returns, for each doc, the fields it computed, each as its model in
:mod:`shared.models` (``{"entities": EntitiesField(people=[...], ...)}``, the
model :data:`~shared.models.FIELD_MODELS` names for the field). Every field
carries ``method`` and ``version``, so each value in ``news.enriched`` says
what produced it; a field it could not compute is
:meth:`~shared.models.EnrichmentField.unavailable` (null ``value``, a
``reason``). Only the keys given to a model are written on the wire.

Enrichers are thin: the work is in :mod:`services.enrich.analysis` (the spaCy
parse, entities, key phrases, quotes, countries), computed once per article on
the typed ``Doc`` and shared by every field that reads it. An enricher imports
the analysis layer, ``shared`` and this module, never another enricher.

Enrichers run in registry order. What one needs from those before it is
declared, not implied: ``requires`` names the fields that must be written
before it runs (``language``, which decides the language the others process
the article in; ``keywords``, which the summary scores sentences by), and
:func:`check_order` (called by the registry and the pipeline) refuses an
order in which a requirement is not provided by an earlier enricher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

from shared.models import EnrichmentField

from ..analysis.doc import Doc

__all__ = ["Enricher", "EnricherOrderError", "Fields", "check_order"]

Fields = dict[str, EnrichmentField]
"""What an enricher writes for one doc: its fields by name, each as its model."""


@runtime_checkable
class Enricher(Protocol):
    """What the enrich service calls. ``provides`` names the fields it writes, ``requires`` the fields that
    must be written before it runs (see the module doc)."""

    name: ClassVar[str]
    provides: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[str, ...]]

    def enrich(self, docs: list[Doc]) -> list[Fields]:
        """Return one ``{field_name: field model}`` dict per doc, in order."""
        ...


class EnricherOrderError(ValueError):
    """An enricher runs before one that writes a field it requires."""


def check_order(enrichers: Sequence[Enricher]) -> None:
    """Raise :class:`EnricherOrderError` unless every field each enricher requires is provided by an
    enricher before it."""
    provided: set[str] = set()
    for enricher in enrichers:
        missing = [f for f in enricher.requires if f not in provided]
        if missing:
            writers = {f: e.name for e in enrichers for f in e.provides}
            why = [f"{f!r} (written by {writers[f]}, after it)" if f in writers else f"{f!r} (no enricher writes it)"
                   for f in missing]  # fmt: skip
            raise EnricherOrderError(f"enricher {enricher.name} requires {', '.join(why)}")
        provided.update(enricher.provides)
