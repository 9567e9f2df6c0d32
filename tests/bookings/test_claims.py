"""Claims add up: a batch of bookings of one event is taken as one claim."""

from boxoffice.bookings.claims import Claim


def test_claims_add_their_seats_and_each_quota_s_seats() -> None:
    total = Claim(2, {1: 2}) + Claim(3, {1: 1, 2: 3}) + Claim(1)

    assert total == Claim(6, {1: 3, 2: 3})
