"""Casework's HTTP API, one router per part of the community's work."""

from carenet_casework.api import (
    cases,
    contact,
    family,
    indicators,
    partners,
    prevention,
    recovery,
    referrals,
    screenings,
    sessions,
    social_referrals,
    staffing,
    team,
    visits,
)

routers = [
    cases.router,
    contact.router,
    visits.router,
    referrals.router,
    team.router,
    family.router,
    sessions.router,
    screenings.router,
    recovery.router,
    prevention.router,
    social_referrals.router,
    partners.router,
    indicators.router,
    staffing.router,
]
