"""Patient and relative web for the rehabilitation plan (included from careplan/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("plan/<int:pk>/rehab/", views.rehab_plan, name="rehab_plan"),
    path("plan/<int:pk>/rehab/agree/", views.rehab_plan_agree, name="rehab_plan_agree"),
    path("plan/<int:pk>/rehab/comment/", views.rehab_plan_comment, name="rehab_plan_comment"),
    path("plan/<int:pk>/rehab/print.pdf", views.rehab_plan_pdf, name="rehab_plan_pdf"),
]
