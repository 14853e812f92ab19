"""The hostile tests place providers in catalog's databases: start them with the regions catalog's own component
tests use (catalog refuses a provider in a region it never heard of)."""

from services.catalog.tests.component.conftest import service_db as service_db
