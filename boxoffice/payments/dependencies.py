"""The payment providers this app has enabled (BOXOFFICE_PAYMENT_PROVIDERS), made at start-up."""

from typing import Annotated

from fastapi import Depends, Request

from boxoffice.payments.service import Providers


async def _providers(request: Request) -> Providers:
    providers: Providers = request.app.state.payment_providers
    return providers


EnabledProviders = Annotated[Providers, Depends(_providers)]
