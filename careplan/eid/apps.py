from django.apps import AppConfig


class EidConfig(AppConfig):
    name = "careplan.eid"
    label = "eid"
    verbose_name = "e-ID"
