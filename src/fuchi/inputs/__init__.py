"""Files in: the policy's declared inputs (inputs.yaml), the data files and the facts they become.

* :mod:`.schema` — ``inputs.yaml``: the fields, kinds and checks a policy declares;
* :mod:`.loader` — YAML, JSON and JSON Lines read and validated against the schema;
  :mod:`.xlsx_input` — filled Excel workbooks, the same way; :mod:`.workbook` — their sheet layout;
* :mod:`.records` — the validated enterprise and city records;
* :mod:`.facts` — records → clingo symbols (or the SQL engine's rows);
* :mod:`.contract` — the field tables of the data format; :mod:`.convert` — data from one format to another.
"""
