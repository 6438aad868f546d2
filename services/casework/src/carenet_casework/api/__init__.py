"""Casework's HTTP API, one router per part of the community's work."""

from carenet_casework.api import cases

routers = [cases.router]
