"""Drafters' tools: check, test and cover a policy, and start a new one.

* :mod:`.checker` — ``fuchi check``: syntax, safety, citations, stratification and types;
* :mod:`.cases` — the policy's YAML cases (``fuchi test``); :mod:`.coverage` — which rules they exercise;
* :mod:`.scaffold` — ``fuchi new-policy`` from ``templates/new-policy``.
"""
