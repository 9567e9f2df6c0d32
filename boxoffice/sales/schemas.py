"""An event's sales as its organizer reads them (SPEC §10): amounts are decimal strings in the
event's currency, as everywhere at the API's edge."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Amount = Annotated[str, Field(description="a decimal amount in `currency`", examples=["125.00"])]


class Chart(StrEnum):
    SEATS_BY_DAY = "seats-by-day"
    REVENUE_BY_DAY = "revenue-by-day"
    SEATS_BY_TYPE = "seats-by-type"
    REVENUE_BY_TYPE = "revenue-by-type"


class SalesTotals(BaseModel):
    seats_sold: int = Field(description="tickets of confirmed bookings", examples=[14])
    seats_held: int = Field(
        description="seats of pending bookings and open waiting-list offers", examples=[3]
    )
    revenue: Amount = Field(
        description="confirmed payments: the money kept (a refunded payment is not in it)"
    )
    refunded: Amount = Field(description="refunds the payment provider has paid back")
    owed: Amount = Field(
        description="manual payments to be paid back: the organizer owes this money and pays "
        "it out themselves"
    )
    pending_payments: Amount = Field(
        description="the total price of pending bookings, not paid yet", examples=["37.50"]
    )


class DaySales(BaseModel):
    date: dt.date = Field(description="a day in the event's time zone", examples=["2027-03-14"])
    seats: int = Field(description="tickets of confirmed bookings made that day", examples=[4])
    revenue: Amount = Field(description="confirmed payments confirmed that day")


class TicketTypeSales(BaseModel):
    ticket_type_id: int
    name: str = Field(examples=["Adult"])
    seats: int = Field(description="tickets of this type in confirmed bookings", examples=[10])
    revenue: Amount = Field(
        description="what those tickets were sold for, in the bookings that were paid for"
    )


class SalesRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currency": "EUR",
                    "totals": {
                        "seats_sold": 3,
                        "seats_held": 2,
                        "revenue": "62.50",
                        "refunded": "25.00",
                        "owed": "12.50",
                        "pending_payments": "25.00",
                    },
                    "by_day": [
                        {"date": "2027-03-14", "seats": 2, "revenue": "37.50"},
                        {"date": "2027-03-15", "seats": 0, "revenue": "0.00"},
                        {"date": "2027-03-16", "seats": 1, "revenue": "25.00"},
                    ],
                    "by_ticket_type": [
                        {"ticket_type_id": 1, "name": "Adult", "seats": 2, "revenue": "50.00"},
                        {"ticket_type_id": 2, "name": "Child", "seats": 1, "revenue": "12.50"},
                        {"ticket_type_id": 3, "name": "Press", "seats": 0, "revenue": "0.00"},
                    ],
                }
            ]
        }
    )

    currency: str = Field(description="ISO 4217, the event's", examples=["EUR"])
    totals: SalesTotals
    by_day: list[DaySales] = Field(
        description="every day from the first sale or payment to the last, oldest first; days "
        "without any are there with 0"
    )
    by_ticket_type: list[TicketTypeSales] = Field(
        description="every ticket type of the event in display order, unsold ones with 0"
    )
