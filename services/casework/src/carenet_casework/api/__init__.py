"""Casework's HTTP API, one router per part of the community's work."""

from carenet_casework.api import cases, family, sessions, team

routers = [cases.router, team.router, family.router, sessions.router]
