from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RehabConfig(AppConfig):
    name = "rehab"
    verbose_name = _("Rehabilitation")

    def ready(self) -> None:
        from . import selectors  # noqa: F401  (registers its worklist source)
