"""The archive: every enriched article version in PostgreSQL, and the search over it.

- :mod:`~shared.archive.rows`: an ``news.enriched`` value -> the columns a query uses (pure).
- :mod:`~shared.archive.schema`: the migrations run on start-up (refusing a newer schema).
- :mod:`~shared.archive.query`: ``/v1/search`` parameters -> a checked query and its SQL (pure).
- :mod:`~shared.archive.store`: the psycopg 3 pool: batched upserts, search, story timelines, size.

The archive service writes (``services.archive``); publish's HTTP API reads (``/v1/search``); the
``newsflow reenrich`` command reads it to send history back through enrich.
"""

from __future__ import annotations

__all__: list[str] = []
