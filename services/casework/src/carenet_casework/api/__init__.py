"""Casework's HTTP API, one router per part of the community's work."""

from carenet_casework.api import cases, family, referrals, sessions, team, visits

routers = [
    cases.router,
    visits.router,
    referrals.router,
    team.router,
    family.router,
    sessions.router,
]
