"""The labelled evaluation sets and their scorers, shared by the quality tests (``tests/eval``) and the
benchmarks (``bench/``); nothing here imports the tests, and no service imports this package.

- ``enrich/*.yaml`` with :mod:`evaluation.enrich_eval`: hand-labelled articles and the entity scores;
- ``stories/*.yaml`` with :mod:`evaluation.story_eval`: story grouping (``python -m evaluation.story_eval``);
- ``neardup/``: the near-duplicate set and its scorer (``python -m evaluation.neardup``);
- :mod:`evaluation.conll_eval`: CoNLL-2003 stories rebuilt as wire text and scored (the file is read by path).
"""
