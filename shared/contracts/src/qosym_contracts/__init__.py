"""Qosym integration events: the only code services share about each other.

Compatibility rule: changes inside a version are additive (new optional fields with defaults).
Anything else is a new class with a new version and, if the key or meaning changes, a new topic.
"""
