"""Rebuild enrich's story index (``stories.lua``'s keys) from the log, after Redis lost it.

Every enriched record on ``news.enriched`` carries its ``story_id`` and the fields its story signature
is computed from (its enrichment, title, body and times). For the records of the index's lifetime
(``story_ttl_s``: an article's ``a:`` key lives that long, so a correction within it keeps its story),
this computes each article's signature again (:func:`~services.enrich.stories.story_features`, as
:meth:`~services.enrich.stories.StoryIndex.assign` did) and puts the article back into the story it was
given (:meth:`~services.enrich.stories.StoryIndex.restore`): no story is chosen again, so the rebuilt index
holds the stories the log shows. Records of one article share a partition (the key is the id) and are
read in offset order: its first version is the one that joined a story (a later version keeps the
story and adds nothing, as ``assign`` does), and ``restore`` leaves an article it knows alone, so a
rebuild interrupted halfway is simply done again. Each key expires when the original would have: the
record's broker timestamp plus ``story_ttl_s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from shared.models import FIELD_MODELS, EnrichedArticle, EnrichmentField
from shared.rebuild import Progress, Rebuild, apply_all, read_log, remaining_s
from shared.records import InRecord
from shared.settings import Settings

from .analysis.doc import Doc
from .stories import StoryIndex

__all__ = ["StoryRebuilder", "enriched_doc", "story_rebuild"]

log = logging.getLogger(__name__)

_CHUNK = 500  # records per restore call


def enriched_doc(value: bytes | None) -> tuple[Doc, str] | None:
    """The doc an enriched record was (its article and fields) and its story id; None when the record is not
    an enriched article or has no story."""
    try:
        a = EnrichedArticle.model_validate_json(value or b"")
    except ValidationError:
        return None
    if not a.story_id:
        return None
    fields: dict[str, EnrichmentField] = {}
    for name in FIELD_MODELS:
        found = getattr(a.enrichment, name, None)
        if found is not None:
            fields[name] = found
    return Doc(article=a, fields=fields), a.story_id


@dataclass
class StoryRebuilder:
    """Restores the story memberships of batches of ``news.enriched`` records into ``index``."""

    index: StoryIndex
    ttl_s: int
    now_s: float = field(default_factory=time.time)
    restored: int = 0  # records given to the index (an article it knew already is left alone by it)
    skipped: int = 0  # records that are not enriched articles with a story

    async def apply(self, records: list[InRecord]) -> None:
        docs: list[Doc] = []
        sids: list[str] = []
        ttls: list[int] = []
        for rec in records:
            ttl = remaining_s(rec, self.ttl_s, self.now_s)
            if ttl <= 0:
                continue
            found = enriched_doc(rec.value)
            if found is None:
                self.skipped += 1
                continue
            docs.append(found[0])
            sids.append(found[1])
            ttls.append(ttl)
        for i in range(0, len(docs), _CHUNK):
            await self.index.restore(docs[i : i + _CHUNK], sids[i : i + _CHUNK], ttls[i : i + _CHUNK])
        self.restored += len(docs)

    async def run(self, batches: AsyncIterable[list[InRecord]]) -> int:
        """Apply every batch; the number of records read."""
        return await apply_all(batches, self.apply)


def story_rebuild(settings: Settings, index: StoryIndex) -> Rebuild:
    """The rebuild of ``settings``' story index from ``news.enriched``, for :class:`~shared.rebuild.StateGate`
    (``index``: an index on the namespace, which need not be gated: the rebuild writes while it is not ready)."""

    async def rebuild(progress: Progress) -> int:
        builder = StoryRebuilder(index, settings.story_ttl_s)
        since_ms = int((builder.now_s - settings.story_ttl_s) * 1000)
        read = await builder.run(read_log(settings, [settings.topics.enriched], since_ms, progress))
        if builder.skipped:
            log.warning("story index rebuild: %d records on %s were not enriched articles with a story_id",
                        builder.skipped, settings.topics.enriched)  # fmt: skip
        return read

    return rebuild
