"""Reads an Excel workbook written by webitel-export with openpyxl (an independent reader) and
compares every cell with the CSV export of the same rows.

    python xlsx_check.py WORKBOOK CSV TZ ID_COLUMNS

Checks: one sheet per 1,048,575 rows (each with the header), the header frozen with an
autofilter over the sheet's rows, date-times shown in TZ, numbers as numbers, the id columns
as text, everything else as the CSV's text. Prints "ok <rows> rows in <sheets> sheets" or fails with the first
difference.
"""

import csv
import datetime
import json
import sys
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.utils import get_column_letter

workbook_path, csv_path, tz_name, id_columns = sys.argv[1:5]
tz = ZoneInfo(tz_name)
ids = set(id_columns.split(","))

with open(csv_path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    header = next(reader)
    expected = list(reader)

workbook = openpyxl.load_workbook(workbook_path)
rows = []
for sheet in workbook.worksheets:
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header, f"{sheet.title} header {values[0]}"
    assert sheet.freeze_panes == "A2", f"{sheet.title} freeze {sheet.freeze_panes}"
    last = f"{get_column_letter(len(header))}{len(values)}"
    assert sheet.auto_filter.ref == f"A1:{last}", f"{sheet.title} filter {sheet.auto_filter.ref}"
    rows.extend(values[1:])

assert len(rows) == len(expected), f"{len(rows)} rows in the workbook, {len(expected)} in the CSV"


def same(name, cell, text):
    if text == "":
        # NULL; an empty string is written as "" in the CSV and as an empty text cell.
        return cell is None or cell == ""
    if name in ids:
        return isinstance(cell, str) and cell == text
    if isinstance(cell, datetime.datetime):
        utc = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        local = utc.astimezone(tz).replace(tzinfo=None)
        # Excel keeps milliseconds at best.
        return abs((cell - local).total_seconds()) < 0.001
    if isinstance(cell, bool):
        return text == ("true" if cell else "false")
    if isinstance(cell, (int, float)):
        return float(text) == cell
    if text.startswith("[") or text.startswith("{"):
        return json.loads(cell) == json.loads(text)
    return cell == text


for n, (got, want) in enumerate(zip(rows, expected)):
    for name, cell, text in zip(header, got, want):
        assert same(name, cell, text), f"row {n + 1} {name}: {cell!r} in the workbook, {text!r} in the CSV"

print(f"ok {len(rows)} rows in {len(workbook.worksheets)} sheets")
