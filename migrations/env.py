"""Alembic environment: Flask-Migrate's engine, batch mode for SQLite, GeoAlchemy2's spatial helpers."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_metadata():
    return target_db.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # SpatiaLite's own bookkeeping tables and PostGIS's are not ours to migrate.
    if type_ == "table" and (
        name
        in {
            "spatial_ref_sys",
            "spatialite_history",
            "sql_statements_log",
            "ElementaryGeometries",
            "SpatialIndex",
            "KNN",
            "KNN2",
            "data_licenses",
        }
        or name.startswith(
            (
                "geometry_columns",
                "views_geometry_columns",
                "virts_geometry_columns",
                "idx_",
                "vector_layers",
                "spatial_ref_sys",
                "SE_",
                "rl2map",
                "topologies",
                "networks",
                "raster_coverages",
                "vector_coverages",
                "wms_",
                "iso_",
                "ISO_",
                "stored_",
                "SE_",
                "alembic_version",
            )
        )
    ):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def process_revision_directives(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=str(target_db.engine.url),
        target_metadata=get_metadata(),
        literal_binds=True,
        include_object=include_object,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The extension must exist before the first geometry column (needs a superuser or trusted owner).
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            include_object=include_object,
            render_item=alembic_helpers.render_item,
            process_revision_directives=alembic_helpers.writer,
            **{k: v for k, v in conf_args.items() if k != "process_revision_directives"},
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
