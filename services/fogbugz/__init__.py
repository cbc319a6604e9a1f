"""FogBugz: Aha! features become cases, requirements their subcases; status back by URL trigger."""

from services.fogbugz.service import Fogbugz

__all__ = ["Fogbugz"]
