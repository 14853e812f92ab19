"""Events published by the catalog service (owned by the catalog developers)."""
