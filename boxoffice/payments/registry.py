"""Makes the providers BOXOFFICE_PAYMENT_PROVIDERS names, once per app."""

from boxoffice.payments.manual import ManualProvider
from boxoffice.payments.providers import Provider
from boxoffice.payments.stripe import StripeProvider
from boxoffice.settings import PaymentProviderName, Settings


def providers_for(settings: Settings) -> dict[str, Provider]:
    made: dict[str, Provider] = {}
    for name in settings.payment_providers:
        if name is PaymentProviderName.MANUAL:
            made[name.value] = ManualProvider(settings.manual_payment_instructions)
        elif name is PaymentProviderName.STRIPE:
            made[name.value] = StripeProvider.from_settings(settings)
    return made
