"""Engine, sessions and the one place where a request's transaction is committed."""

import json
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar, TypeVarTuple

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Select, String, Text, event, func, select, update
from sqlalchemy import Row as SqlRow
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry, Pool
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator
from typing_extensions import override

from boxoffice.errors import DomainError
from boxoffice.schemas import PageParams
from boxoffice.settings import Settings

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
Row = TypeVarTuple("Row")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine.

    SQLite and MariaDB have no zone-aware column type, so the value is stored as naive UTC
    (with microseconds: MariaDB's DATETIME drops them unless asked) and made aware on the way out.
    """

    impl = DateTime
    cache_ok = True

    @override
    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class StrEnumText(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as plain text (the table's CHECK constraint lists the values)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    @override
    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    @override
    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)


class JSONText(TypeDecorator[Any]):
    """A JSON value in a TEXT column, encoded here rather than by an engine's JSON type, so that
    it is stored and read back alike on every engine. The options are `json.dumps`'s: a column
    keeps the bytes it has always stored."""

    impl = Text
    cache_ok = True

    def __init__(
        self,
        sort_keys: bool = False,
        separators: tuple[str, str] | None = None,
        default: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self.sort_keys = sort_keys
        self.separators = separators
        self.default = default

    @override
    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(
            value, sort_keys=self.sort_keys, separators=self.separators, default=self.default
        )

    @override
    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


def count_of(query: Select[*tuple[Any, ...]]) -> Select[int]:
    return select(func.count()).select_from(query.order_by(None).subquery())


async def paginate(
    session: AsyncSession,
    query: Select[*Row],
    page: PageParams | None,
    *,
    counting: Select[*tuple[Any, ...]] | None = None,
) -> tuple[Sequence[SqlRow[*Row]], int]:
    """One page of a listing's rows (every row when `page` is None) and how many there are in all.

    `counting` is the query to count when `query` only decorates it (joined columns, loaders):
    counting those would compute them for every row of the listing. The count is a statement
    of its own, so it runs only when the rows cannot tell: a page that is neither full nor empty
    past the start ends the listing, and its offset plus its rows are the total."""
    if page is None:
        rows = (await session.execute(query)).all()
        return rows, len(rows)
    rows = (await session.execute(query.limit(page.limit).offset(page.offset))).all()
    if 0 < len(rows) < page.limit or (not rows and page.offset == 0):
        return rows, page.offset + len(rows)
    counted = await session.execute(count_of(query if counting is None else counting))
    total: int = counted.scalar_one()
    return rows, total


async def paginate_scalars(
    session: AsyncSession,
    query: Select[T],
    page: PageParams,
    *,
    counting: Select[*tuple[Any, ...]] | None = None,
) -> tuple[Sequence[T], int]:
    """`paginate` for a query of one entity: the entities themselves."""
    rows, total = await paginate(session, query, page, counting=counting)
    return [row[0] for row in rows], total


async def changed_one(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> bool:
    """Runs an UPDATE meant for one row; whether it found the row its WHERE asks for. A
    conditional UPDATE's row count is how the database answers "did I win?"."""
    result = await session.execute(statement, parameters)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class RowLock:
    """Locks the rows of `column`'s table that match `where` until the transaction ends, and
    says how many there were. Built once, with the WHERE's values as bound parameters given at
    each use (`await lock(session, user_id=...)`). A shared lock keeps writers out but lets other
    lockers in; the exclusive one is PostgreSQL's FOR NO KEY UPDATE, which, like an UPDATE,
    leaves foreign key checks alone. SQLite has no row locks: there, writing `column` back
    unchanged takes the database's write lock, which serialises writers just as well (shared
    or not)."""

    def __init__(
        self, column: InstrumentedAttribute[Any], *where: ColumnElement[bool], shared: bool = False
    ) -> None:
        self._writing = update(column.class_).where(*where).values({column: column})
        # key_share: FOR NO KEY UPDATE when exclusive; a shared FOR KEY SHARE would not stop an
        # UPDATE, so shared stays FOR SHARE. MySQL and MariaDB ignore it.
        self._locking = (
            select(column).where(*where).with_for_update(read=shared, key_share=not shared)
        )

    async def __call__(self, session: AsyncSession, **parameters: Any) -> int:
        if session.get_bind().dialect.name == "sqlite":
            written = await session.execute(self._writing, parameters)
            return int(written.rowcount)  # type: ignore[attr-defined]
        return len((await session.execute(self._locking, parameters)).all())


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    poolclass: type[Pool] | None = None,
) -> AsyncEngine:
    pool: dict[str, Any] = {
        # Twice the setting, opened as load needs them and then kept: SQLAlchemy closes an
        # overflow connection whenever the pool's idle queue is full, so under a steady load
        # with bursts it closed and reopened about 20 connections a second (a PostgreSQL
        # process each), a tenth of the server's CPU on a simple read.
        "pool_size": 2 * settings.database_pool_size,
        "max_overflow": 0,
        # A database error's message would otherwise carry its bound values (e-mail addresses,
        # names, whatever a request sent) into the log.
        "hide_parameters": True,
    }
    if poolclass is not None:
        pool["poolclass"] = poolclass
    if settings.is_sqlite:
        create_private_sqlite_file(settings.database_url)
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 30}, **pool)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    idle_seconds = settings.database_pool_ping_idle_seconds
    options: dict[str, Any] = {**pool, "pool_pre_ping": idle_seconds == 0, "pool_recycle": 1800}
    url = make_url(settings.database_url)
    if url.get_backend_name() in ("mysql", "mariadb"):
        # InnoDB defaults to REPEATABLE READ, whose snapshot would hide waiting-list rows that
        # other transactions committed while we waited for the event's row lock.
        options["isolation_level"] = "READ COMMITTED"
        options["connect_args"] = {"connect_timeout": math.ceil(settings.database_connect_timeout)}
    elif url.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {
            "timeout": settings.database_connect_timeout,
            "command_timeout": settings.database_command_timeout,
        }
        if settings.database_pgbouncer:
            # PgBouncer's transaction mode hands each transaction any server connection, where a
            # statement prepared earlier may be missing, or exist under the same name from
            # another client: cache nothing, and name each statement uniquely.
            url = url.update_query_dict({"prepared_statement_cache_size": "0"})
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = _unique_statement_name
        options["connect_args"] = connect_args
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "postgresql":
        _discard_dead_asyncpg_connections(engine)
    if idle_seconds > 0:
        _ping_when_idle(engine, idle_seconds, clock)
    return engine


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


# How asyncpg words a protocol out of step with its server (protocol/coreproto.pyx); the relay
# tests of tests/ops/test_outages.py fail if a new asyncpg words it otherwise.
_OUT_OF_STEP = ("cannot switch to state", "not connected")


def _discard_dead_asyncpg_connections(engine: AsyncEngine) -> None:
    """Keeps connections that asyncpg knows to be dead out of requests.

    A server that hangs up on an idle connection (a restart, `pg_terminate_backend`, an idle
    timeout) is noticed by the driver at once, and a pooled connection it closed is replaced
    at checkout for free, where `_ping_when_idle` would hand it out if it was used lately.

    A connection whose backend said farewell while it was idle but whose socket is still open
    makes asyncpg refuse the next statement with an InternalClientError, its protocol out of
    step. SQLAlchemy asks the connection whether it is closed when it can; while the engine's
    first connection is being set up it cannot, and the failure would be a bug's 500: it is a
    disconnect, a 503, and the connection is thrown away.
    """

    def checked_out(_: Any, record: ConnectionPoolEntry, __: Any) -> None:
        if record.driver_connection is not None and record.driver_connection.is_closed():
            # The pool throws this connection away and opens a new one in its place.
            raise DisconnectionError("the database closed this pooled connection")

    def failed(context: ExceptionContext) -> None:
        cause = context.original_exception.__cause__
        # Only the protocol's own state errors: asyncpg raises the same class for a codec's or a
        # schema cache's faults, which are bugs to see as 500s, not outages to retry.
        if isinstance(cause, asyncpg.InternalClientError) and str(cause).startswith(_OUT_OF_STEP):
            context.is_disconnect = True

    event.listen(engine.sync_engine.pool, "checkout", checked_out)
    event.listen(engine.sync_engine, "handle_error", failed)


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float, clock: Callable[[], float]) -> None:
    """Tests a pooled connection with a round trip before use only if it sat idle for a while.

    SQLAlchemy's pre-ping costs a round trip on every checkout, one per request: a quarter of
    the round trips of an event read. A connection used a moment ago is almost surely alive; the
    ones a database restart or an idle timeout killed have been idle. Should one fail anyway,
    its request fails and SQLAlchemy discards every connection the pool had opened before it.
    """

    def checked_in(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = clock()

    def checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or clock() - idle_since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool throws this connection away and checks out another one.
            raise DisconnectionError("a pooled connection failed its ping") from error

    event.listen(engine.sync_engine.pool, "checkin", checked_in)
    event.listen(engine.sync_engine.pool, "checkout", checked_out)


def create_private_sqlite_file(database_url: str) -> None:
    """Creates a SQLite database file readable and writable by its owner alone (0600), before
    SQLite would create it with the umask's permissions, often readable by every local user.
    SQLite gives its -wal and -shm files the database file's permissions. An existing file is
    left as it is."""
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except (FileExistsError, FileNotFoundError):
        # There already, or its folder is missing (SQLite reports that in its own words).
        return


def _configure_sqlite(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds ASCII only; search must find "München" by "MÜNCHEN" too.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def create_sessionmaker(
    engine: AsyncEngine, settings: Settings | None = None
) -> async_sessionmaker[AsyncSession]:
    # Sessions carry the settings in `info` for the few services that need one (the outbox's
    # reminder lead time), so that every caller of those need not thread settings through.
    info = {} if settings is None else {"settings": settings}
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends and rolled back if it raises."""
    async with sessionmaker() as session:
        try:
            yield session
        except DomainError as error:
            if error.keeps_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


def create_reading_sessionmaker(
    engine: AsyncEngine, settings: Settings | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read (GET and HEAD).

    On PostgreSQL their statements run in autocommit: no BEGIN and no COMMIT, two of the three
    round trips of an event read. Nothing is given up: at READ COMMITTED each statement of a
    transaction takes its own snapshot anyway, and a read takes no lock worth holding. MariaDB's
    driver begins a transaction without a round trip of its own and SQLite's reads outside one
    already, so elsewhere this is the usual maker. A reading session that writes is a bug, and
    is refused before the statement reaches the database."""
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine, settings)
    reading = engine.execution_options(isolation_level="AUTOCOMMIT")
    event.listen(reading.sync_engine, "before_cursor_execute", _refuse_writes)
    return create_sessionmaker(reading, settings)


def _refuse_writes(*args: Any) -> None:
    context = args[4]
    if context.isinsert or context.isupdate or context.isdelete:
        raise RuntimeError("a reading session may not write: a GET must not change anything")


# Work a request leaves for after its transaction: given a (writing) sessionmaker.
AfterTransaction = Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]
_AFTER_TRANSACTION = "after_transaction"


def after_transaction(session: AsyncSession, work: AfterTransaction) -> None:
    """Runs `work` once the request's transaction has ended, committed or not, and its
    connection is back in the pool: for a small write that must not share the request's locks
    (nor wait for a second connection while holding one). Outside a request, never."""
    pending = session.info.get(_AFTER_TRANSACTION)
    if pending is not None:
        pending.append(work)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    reads_only = request.method in ("GET", "HEAD")
    sessionmaker = state.reading_sessionmaker if reads_only else state.sessionmaker
    pending: list[AfterTransaction] = []
    try:
        async with transaction(sessionmaker) as session:
            session.info[_AFTER_TRANSACTION] = pending
            yield session
    finally:
        for work in pending:
            await work(state.sessionmaker)


async def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


# For the rare work that must commit apart from the request's transaction (and says why).
SessionFactory = Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)]

# scope="function": the commit happens before the response is sent, so a client never hears
# "201 Created" for a booking whose transaction then failed.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
