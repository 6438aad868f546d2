"""Fixtures for the whole suite: the real Kafka broker and the real PostgreSQL the tests use."""

pytest_plugins = ["carenet_devtools.pytest_kafka", "carenet_devtools.pytest_postgres"]
