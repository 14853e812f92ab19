"""Events published by the payments service (owned by the payments developers)."""
