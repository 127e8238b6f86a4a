"""pyroute2 registered without its package __init__, before genl.py imports it.

That __init__ imports every family pyroute2 knows (IPRoute, NDB, conntrack,
nl80211 ...: 160 modules, asyncio's among them) where hagent uses generic
netlink only.  Registered bare, the package's submodules import as they
would anyway and nothing else does: a fresh hagentctl imports 290 modules
instead of 460, in 0.20 s instead of 0.26 on a host and in 11 s instead of
17 in a TCG guest, where every test that starts one pays it.  Left alone
when pyroute2 is imported already (a program that embeds hagent's package).
"""

import importlib.util
import sys


def register() -> bool:
    """Registers pyroute2 bare; False when it was imported already (or is missing)."""
    if "pyroute2" in sys.modules:
        return False
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.submodule_search_locations is None:
        return False  # genl.py's own import says what is missing
    sys.modules["pyroute2"] = importlib.util.module_from_spec(spec)
    return True


register()
