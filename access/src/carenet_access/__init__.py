"""CareNet's one authorisation policy, applied at the door of every service.

`policy` decides (who may do what to which patient), `relations` reads the care network from
the events, `graph` keeps it current from the topics, `http` puts the policy on every route.
"""

from carenet_access.http import (
    EXTENSION,
    AccessControl,
    Control,
    for_roles,
    guarded,
    of_organisation,
    require_organisation,
    require_role,
)
from carenet_access.policy import ANY_PART, Access, Decision, Outcome, Role, decide

__all__ = [
    "ANY_PART",
    "EXTENSION",
    "Access",
    "AccessControl",
    "Control",
    "Decision",
    "Outcome",
    "Role",
    "decide",
    "for_roles",
    "guarded",
    "of_organisation",
    "require_organisation",
    "require_role",
]
