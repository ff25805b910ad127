"""Active handovers between care units: who may see one (``access``), the admin's forms
(``forms``), the patient's page (``views``), the PDF (``pdf``), the unit report
(``reports``) and the writes (``services``). The model lives in ``contacts.models``."""
