"""Renderers: results, totals, explanations and reports as table, JSON, CSV, Markdown or Excel.

* :mod:`.render` — every text format (the one module that uses rich); :mod:`.xlsx` — Excel workbooks;
* :mod:`.totals` — the totals by item, payable year and status;
* :mod:`.files` — output written atomically (nothing half-written).
"""
