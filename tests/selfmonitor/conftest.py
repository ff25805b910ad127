"""Self-monitoring fixtures: the shipped instruments loaded, and a helper to send one."""

from __future__ import annotations

import pytest

from selfmonitor import services
from selfmonitor.models import Instrument


@pytest.fixture
def instruments(db) -> dict[str, Instrument]:
    loaded = {}
    for path in sorted(services.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = services.instrument_load(
            data=services.read_instrument_file(path), source_file=path.name
        )
        loaded[instrument.key] = instrument
    return loaded


@pytest.fixture
def send(cast, instruments):
    """send("distress-thermometer") -> an open assignment for the cast's patient."""

    def make(key: str = "distress-thermometer", **kwargs):
        return services.assignment_send(
            patient=cast.patient, instrument=instruments[key], by=cast.nurse, **kwargs
        )

    return make
