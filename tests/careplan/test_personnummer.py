import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from careplan import personnummer as pnr

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    "raw",
    [
        "19121212-1212",
        "191212121212",
        "19121212 1212",
        # The same number typed with Arabic-Indic, Persian or full-width digits and dashes.
        "١٩١٢١٢١٢-١٢١٢",
        "۱۹۱۲۱۲۱۲۱۲۱۲",
        "１９１２１２１２－１２１２",
        "19121212\u20131212",
    ],
)
def test_it_normalizes_accepted_forms_to_twelve_digits(raw):
    assert pnr.normalize(raw, today=TODAY) == "191212121212"


@pytest.mark.parametrize("raw", ["121212-1212", "1212121212"])
def test_it_reads_a_short_form_as_the_latest_past_century(raw):
    assert pnr.normalize(raw, today=TODAY) == "201212121212"


def test_it_reads_plus_as_hundred_years_old():
    assert pnr.normalize("121212+1212", today=TODAY) == "191212121212"


def test_it_accepts_samordningsnummer():
    nine = "701063" + "239"
    number = "19" + nine + pnr.with_check_digit(nine)
    assert pnr.normalize(number, today=TODAY) == number


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("19121212-1213", "checksum"),
        ("19121312-1212", "date"),
        ("19120230-1234", "date"),
        ("abc", "format"),
        ("", "format"),
        ("20991212-1212", "date"),
    ],
)
def test_it_refuses_invalid_numbers_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        pnr.normalize(raw, today=TODAY)
    assert exc.value.code == code


def test_masked_hides_the_last_four_digits():
    assert pnr.masked("191212121212") == "19121212-****"


def test_logging_filter_redacts_personnummer(caplog):
    import logging

    from careplan.logging import RedactPersonnummerFilter

    logger = logging.getLogger("careplan.test")
    logger.addFilter(RedactPersonnummerFilter())
    with caplog.at_level(logging.INFO, logger="careplan.test"):
        logger.info("looked up %s", "19121212-1212")
    assert "1212-1212" not in caplog.text
    assert "[personnummer]" in caplog.text
