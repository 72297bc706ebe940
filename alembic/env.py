"""Alembic environment: the database URL comes from SayZhong settings, the tables from sayzhong.models."""

from logging.config import fileConfig

from sqlmodel import SQLModel

from alembic import context
from sayzhong import guard_cache
from sayzhong.db import get_engine
from sayzhong.models import load_all_models

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name)

load_all_models()
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=str(get_engine().url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection") or get_engine()
    if hasattr(connectable, "connect") and not hasattr(connectable, "dialect_options"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
    # A migration may change rows outside the ORM while the previous release still serves: its web
    # workers read every page-load guard afresh (sayzhong/guard_cache.py; nothing without REDIS_URL).
    guard_cache.bump_everyone()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
