"""The care team's rehabilitation work in the admin, over ``careplan.admin``'s
``PatientRecordAdmin`` (unit-scoped querysets, one access-log row per access).

- Needs assessments: a form with the latest screening results and a suggested level
  beside it; advanced needs are referred to a rehabilitation unit in the same step.
- Rehabilitation plans: goals, KVÅ-coded interventions, follow-ups, self-care advice,
  history; the patient's PDF; reports per unit and period with CSV export.
- Referrals: the receiving rehabilitation unit sees incoming referrals and accepts or
  declines them with a reason.
- The KVÅ catalogue and the self-care advice library (read by staff, kept by superusers).
"""

from .assessments import AssessmentForm, NeedsAssessmentAdmin
from .catalogues import KvaCodeAdmin, KvaSearchInput, SelfCareAdviceAdmin, kva_search
from .comments import RehabPlanCommentAdmin
from .plans import RehabPlanAdmin
from .referrals import DecisionForm, IncomingFilter, ReferralAdmin

__all__ = [
    "AssessmentForm",
    "DecisionForm",
    "IncomingFilter",
    "KvaCodeAdmin",
    "KvaSearchInput",
    "NeedsAssessmentAdmin",
    "ReferralAdmin",
    "RehabPlanAdmin",
    "RehabPlanCommentAdmin",
    "SelfCareAdviceAdmin",
    "kva_search",
]
