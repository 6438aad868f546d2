"""The topic specification (`deploy/topics.yaml`), loaded and typed.

It is the single source for topic names and settings; nothing else spells a topic name.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

Profile = Literal["local", "production"]

DEAD_LETTER_TOPIC = "carenet.deadletter.v1"


class Replication(BaseModel):
    model_config = ConfigDict(frozen=True)

    replication_factor: int
    min_insync_replicas: int


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    producer: str
    description: str
    partitions: int
    config: dict[str, str]


class TopicCatalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    profiles: dict[str, Replication]
    topics: tuple[TopicSpec, ...]

    def topic_of(self, producer: str) -> TopicSpec:
        return next(t for t in self.topics if t.producer == producer)

    def config_for(self, topic: TopicSpec, profile: Profile) -> dict[str, str]:
        """Topic-level configuration, including `min.insync.replicas` for the profile."""
        replicas = self.profiles[profile].min_insync_replicas
        return {**topic.config, "min.insync.replicas": str(replicas)}


def parse_catalog(text: str) -> TopicCatalog:
    raw = yaml.safe_load(text)
    defaults = raw["defaults"]
    topics = [
        {
            "partitions": defaults["partitions"],
            **entry,
            "config": {**defaults["config"], **entry.get("config", {})},
        }
        for entry in raw["topics"]
    ]
    return TopicCatalog(profiles=raw["profiles"], topics=tuple(topics))


@cache
def load_catalog(path: Path | None = None) -> TopicCatalog:
    """Load `deploy/topics.yaml` (linked into the kit package), or another given file."""
    if path is not None:
        return parse_catalog(path.read_text())
    return parse_catalog(resources.files("carenet_kit").joinpath("topics.yaml").read_text())
