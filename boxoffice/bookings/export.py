"""The guest list as CSV, safe to open in a spreadsheet program."""

import csv
import io
import re

from boxoffice.bookings.schemas import Guest

# The lines, one cell ("2× Adult; 1× Child"), are the last column.
GUEST_COLUMNS = [*(name for name in Guest.model_fields if name != "lines"), "ticket_types"]

# Where a spreadsheet may see a cell start: the start of the text, and after any character some
# locale or import dialog splits lines at (a spreadsheet in a ";" locale splits
# `x;=cmd|' /C calc'!A0` into a cell that starts with "="). A cell starting with one of = + - @
# (after blanks and quotes, which spreadsheets skip) runs as a formula; so does one starting
# with a tab or carriage return in some programs.
_FORMULA_START = re.compile(r"""(^|[,;\t|\r\n])(?=[\s"']*[=+\-@]|[\t\r])""")


def guests_csv(guests: list[Guest]) -> str:
    out = io.StringIO()
    # Every cell quoted: a separator inside a name never splits it for a reader of this dialect.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(GUEST_COLUMNS)
    for guest in guests:
        row = guest.model_dump(mode="json")
        row["ticket_types"] = "; ".join(f"{line.quantity}× {line.name}" for line in guest.lines)
        writer.writerow([spreadsheet_safe(row[column]) for column in GUEST_COLUMNS])
    return out.getvalue()


def spreadsheet_safe(value: object) -> str:
    """Puts an apostrophe (which makes a cell text) wherever a cell could start a formula,
    whichever separator the spreadsheet splits at; quoting alone does not stop a reader that
    uses another separator, which ignores the quotes."""
    text = "" if value is None else str(value)
    return _FORMULA_START.sub(r"\1'", text)
