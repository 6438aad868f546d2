"""Plumbing shared by every CareNet service: Kafka, outbox, tracking, logs, HTTP basics.

No domain logic lives here; a rule about patients belongs to the service that owns it.
"""
