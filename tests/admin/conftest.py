import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import Caller, signed_in


@pytest.fixture
async def admin(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ADMIN, full_name="Ada Admin")
