from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareplanConfig(AppConfig):
    name = "careplan"
    verbose_name = _("Care plan")

    def ready(self) -> None:
        from . import selectors, signals  # noqa: F401  (selectors: worklist sources)
