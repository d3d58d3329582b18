"""Development and test tooling: never imported by production code.

- :mod:`devtools.embedded`: start the embedded broker (Tansu), Redis and TLS files for ``newsflow dev`` and
  the tests.
- :mod:`devtools.scram_gate`: a SASL/SCRAM server in front of the embedded Tansu (whose own SCRAM user store
  does not work in memory mode), for ``newsflow dev --secure`` and the SCRAM tests.
- :mod:`devtools.devstack`: ``newsflow dev``, the whole pipeline on one machine.

The services (``services.ingest``, ``services.enrich``, ``services.publish``) and ``shared`` may not import
this package (an import contract in ``pyproject.toml``); the container image does not ship it.
"""
