"""Events published by the attendance service (owned by the attendance developers)."""
