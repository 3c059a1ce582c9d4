"""The North Star page, served by Superset itself (see `page`).

Enable it in superset_config.py:

    from superset_plugin.inside import init_northstar
    FLASK_APP_MUTATOR = init_northstar

and, for a Superset without the page, keep secrets out of its action log:

    from superset_plugin.inside import ScrubbingEventLogger
    EVENT_LOGGER = ScrubbingEventLogger()
"""

from superset_plugin.inside.action_log import ScrubbingEventLogger
from superset_plugin.inside.page import init_northstar

__all__ = ["ScrubbingEventLogger", "init_northstar"]
