"""Explanations: why and why not, as data (rendered by :mod:`fuchi.output.render`).

* :mod:`.reasons` — reason terms → Chinese and English text (messages.yaml);
* :mod:`.instrument` — the rules rewritten so that every body condition is observable;
* :mod:`.explain` — the explainer: decisions, their rule chains and the failing conditions.
"""
