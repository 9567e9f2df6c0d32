"""Prices: integer amounts of a currency's minor unit in storage and arithmetic, decimal
strings (`"12.50"`) at the API's edge, never floats."""

from decimal import Decimal, InvalidOperation

# ISO 4217 codes in use, each with its number of minor-unit digits.
_THREE_DIGITS = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_NO_DIGITS = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip
_TWO_DIGITS = {
    *"""AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK
    PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL""".split()  # noqa: SIM905 (a table, not a list to edit one by one)
}
MINOR_DIGITS = (
    dict.fromkeys(_TWO_DIGITS, 2) | dict.fromkeys(_NO_DIGITS, 0) | dict.fromkeys(_THREE_DIGITS, 3)
)
CURRENCIES = frozenset(MINOR_DIGITS)
# The largest price of one ticket, in any currency's major unit: 1,000,000.00 EUR is no ticket.
MAX_MAJOR_UNITS = 1_000_000


def to_minor(price: str, currency: str) -> int:
    """`"12.50"` in EUR is 1250. ValueError for what is not a plain decimal amount of that
    currency: negative, too precise, too large, or not a number."""
    try:
        amount = Decimal(price)
    except InvalidOperation:
        raise ValueError("must be a decimal amount such as '12.50'") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be 0 or more")
    if amount > MAX_MAJOR_UNITS:
        raise ValueError(f"must be at most {MAX_MAJOR_UNITS}")
    digits = MINOR_DIGITS[currency]
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} has {digits} digits after the decimal point")
    return int(minor)


def to_decimal_string(minor: int, currency: str) -> str:
    """1250 in EUR is `"12.50"`; 1250 in JPY is `"1250"`."""
    digits = MINOR_DIGITS[currency]
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"
