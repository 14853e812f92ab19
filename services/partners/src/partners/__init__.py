"""Qosym partners: webhook subscriptions of partner service accounts, their deliveries and dead letters."""
