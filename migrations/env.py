"""Alembic environment: runs migrations against jobboard's SQLModel metadata."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import jobboard.core.accounts.models  # registers the account tables
import jobboard.core.models  # registers the tables
import jobboard.core.stats
import jobboard.core.webhooks.models  # noqa: F401  (registers the webhook tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
