import functools
import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from jobboard.core.settings import allowed_origins

# Not Reflex's opportunistic state lock (REFLEX_OPLOCK_ENABLED): it saves the Redis read, lock
# and write of each live update per session, but after a Redis restart the sessions it leased
# stopped getting updates (tests/browser/test_outages.py fails with it), and recovery comes first.

config = rx.Config(
    app_name="jobboard",
    # With Redis, Reflex keeps session state there and can run several backend processes.
    redis_url=os.environ.get("REDIS_URL") or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    # Reflex allows every origin by default, for its CORS and its `/_event` websocket: only the
    # app's own origin (and JOBBOARD_ALLOWED_ORIGINS) may call it from a browser.
    cors_allowed_origins=allowed_origins(),
)


def _respawn_failed_app_workers() -> None:
    """Granian, Reflex's prod server, stops the whole app when one of its worker processes
    dies (OOM killer, crash), and Reflex gives no way to pass its `respawn_failed_workers`.
    With it, only the sessions of the dead process reconnect (to the others, or to its
    replacement); `make run` still restarts the app if the whole server goes."""
    try:
        from granian.server import Server
    except ImportError:  # not the Granian backend: nothing to do
        return
    init = Server.__init__
    if getattr(init, "jobboard_respawn", False):
        return

    @functools.wraps(init)
    def with_respawn(self: object, *args: object, **kwargs: object) -> None:
        kwargs["respawn_failed_workers"] = True
        init(self, *args, **kwargs)

    with_respawn.jobboard_respawn = True  # type: ignore[attr-defined]
    Server.__init__ = with_respawn  # type: ignore[method-assign]


_respawn_failed_app_workers()
