"""The archive service: ``news.enriched`` -> PostgreSQL (every article version, searchable)."""
