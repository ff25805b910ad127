from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfmonitorConfig(AppConfig):
    name = "selfmonitor"
    verbose_name = _("Self-monitoring")

    def ready(self) -> None:
        from . import selectors  # noqa: F401  (registers its worklist source)
