"""The guest list as CSV, safe to open in a spreadsheet program."""

import csv
import io

from boxoffice.bookings.schemas import Guest

GUEST_COLUMNS = list(Guest.model_fields)


def guests_csv(guests: list[Guest]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GUEST_COLUMNS)
    for guest in guests:
        row = guest.model_dump(mode="json")
        writer.writerow([spreadsheet_safe(row[column]) for column in GUEST_COLUMNS])
    return out.getvalue()


def spreadsheet_safe(value: object) -> str:
    # A cell that starts like a formula is run by spreadsheet programs (CSV injection): a leading
    # apostrophe makes it text.
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
