"""The North Star page, served by Superset itself (see `page`).

Enable it in superset_config.py:

    from superset_plugin.inside import init_northstar
    FLASK_APP_MUTATOR = init_northstar
"""

from superset_plugin.inside.page import init_northstar

__all__ = ["init_northstar"]
