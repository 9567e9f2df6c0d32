"""An event's sales for its organizer and admins: seats and money by day and by ticket type, as
figures and as charts drawn by the server (SPEC §10)."""
