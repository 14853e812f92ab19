"""Qosym conversations: threads between guardians and providers or their consultation point, attached to an object."""
