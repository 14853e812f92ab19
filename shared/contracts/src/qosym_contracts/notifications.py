"""Events published by the notifications service (owned by the notifications developers)."""
