"""What the enrich service computes about an article, below the fields that report it.

The typed :class:`~services.enrich.analysis.doc.Doc` (one article, its fields so far and the analyses
computed once for all of them), the spaCy pool that parses a batch, and the analyses several fields or
the story index read: sentences, merged entities, key phrases, quotes, country salience, the gazetteer.
Nothing here knows about an enricher, the pipeline, the handler, the story index, Kafka or Redis
(``[tool.importlinter]`` in pyproject.toml): ``services/enrich/enrichers/`` builds the fields on it.
"""
