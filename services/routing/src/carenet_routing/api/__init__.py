"""Routing's HTTP API, one router per part of its work: routes and referrals, the directory."""

from carenet_routing.api import directory, routes

routers = [routes.router, directory.router]
