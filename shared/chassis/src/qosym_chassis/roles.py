"""Least-privileged database roles: each service owns its database through ``qosym_<service>_owner`` (migrations)
and runs as ``qosym_<service>_app`` (api, consumers, relay) with DML on its tables only.

The app role is not a superuser, not the owner of anything, and holds no DDL, TRUNCATE, TRIGGER or REFERENCES
right: it cannot disable a trigger, alter or create a table. On the append-only tables (the audit trail) it may
only INSERT and SELECT. ``migrate`` re-applies the grants after every upgrade (``apply_app_grants``), and the
owner's default privileges grant the same DML on tables that later migrations create.

Against an external server the same can be done by hand (see the root README): create both roles, the database
owned by the owner role, then run ``migrate`` with ``QOSYM_MIGRATION_DATABASE_URL`` (owner) and
``QOSYM_DATABASE_APP_ROLE`` (app); the service processes get ``QOSYM_DATABASE_URL`` with the app role.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

APPEND_ONLY_TABLES: tuple[str, ...] = ("audit_log", "audit_log_unkeyed")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def owner_role(service: str) -> str:
    return _checked(f"qosym_{service}_owner")


def app_role(service: str) -> str:
    return _checked(f"qosym_{service}_app")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain role name: {name!r}")
    return name


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server URL, logging in as ``user``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def ensure_role_sql(role: str, password: str, existing: bool) -> str:
    """Create (or reset) a login role with no special attributes at all."""
    verb = "ALTER" if existing else "CREATE"
    return (
        f"{verb} ROLE {_checked(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        f" NOINHERIT PASSWORD {_literal(password)}"
    )


def adopt_sql(owner: str) -> list[str]:
    """Run as a superuser inside the database: the owner role owns every object of the public schema (databases
    created before the roles existed were owned by the superuser) and the public schema takes no CREATE from PUBLIC.
    A DO block, so it is one statement."""
    owner = _checked(owner)
    return [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"ALTER SCHEMA public OWNER TO {owner}",
        f"""DO $$
DECLARE item record;
BEGIN
  FOR item IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> '{owner}'
  LOOP
    EXECUTE CASE WHEN item.relkind IN ('v') THEN 'ALTER VIEW '
                 WHEN item.relkind = 'm' THEN 'ALTER MATERIALIZED VIEW '
                 WHEN item.relkind = 'f' THEN 'ALTER FOREIGN TABLE '
                 ELSE 'ALTER TABLE ' END || quote_ident(item.relname) || ' OWNER TO {owner}';
  END LOOP;
  FOR item IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> '{owner}'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE 'ALTER SEQUENCE ' || quote_ident(item.relname) || ' OWNER TO {owner}';
  END LOOP;
  FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}'
  LOOP
    EXECUTE 'ALTER ROUTINE ' || item.signature || ' OWNER TO {owner}';
  END LOOP;
  FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND pg_get_userbyid(t.typowner) <> '{owner}'
        AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
  LOOP
    EXECUTE 'ALTER TYPE ' || quote_ident(item.typname) || ' OWNER TO {owner}';
  END LOOP;
END $$""",
    ]


def app_grants_sql(app: str, append_only: Sequence[str] = APPEND_ONLY_TABLES) -> list[str]:
    """Run as the owner role after migrating: DML on every table, INSERT and SELECT only on append-only ones."""
    app = _checked(app)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {app}",
    ]
    for table in append_only:
        statements.append(
            f"DO $$ BEGIN IF to_regclass('public.{_checked(table)}') IS NOT NULL THEN"
            f" REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {table} FROM {app}; END IF; END $$"
        )
    return statements
