"""Casework's HTTP API, one router per part of the community's work."""

from carenet_casework.api import cases, referrals, visits

routers = [cases.router, visits.router, referrals.router]
