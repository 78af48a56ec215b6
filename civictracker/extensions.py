"""Flask extensions, created unbound here and bound to an app by create_app (the factory pattern)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

# One naming convention for every constraint: SQLite batch migrations need named constraints to alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model; carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()


def current_session() -> Session:
    """The app context's Session, for services and jobs that take a `sqlalchemy.orm.Session`.

    `db.session` is Flask-SQLAlchemy's scoped proxy: it forwards every call to this same object but is no
    Session subtype, so typed code passes the object itself. Call it where it is used, inside the context.
    """
    return db.session()
