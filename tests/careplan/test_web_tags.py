"""The plain-text plan format and the small template helpers."""

from __future__ import annotations

from careplan.templatetags.careplan_tags import plan_text, tel_href, text_blocks


def test_blank_lines_separate_paragraphs():
    assert plan_text("Ett.\n\nTvå.") == "<p>Ett.</p>\n<p>Två.</p>"


def test_dash_lines_become_one_bullet_list_after_their_lead_in():
    html = plan_text("Det kan vara:\n- blodprov\n- röntgen\n\nSlut.")

    assert html == "<p>Det kan vara:</p>\n<ul><li>blodprov</li><li>röntgen</li></ul>\n<p>Slut.</p>"


def test_line_breaks_inside_a_paragraph_are_kept():
    assert plan_text("Rad ett\nRad två") == "<p>Rad ett<br>Rad två</p>"


def test_everything_typed_is_escaped():
    html = plan_text('<script>alert("x")</script>\n- <b>fet</b> & "citat"')

    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "<li>&lt;b&gt;fet&lt;/b&gt; &amp; &quot;citat&quot;</li>" in html


def test_empty_text_gives_nothing():
    assert plan_text("") == ""
    assert plan_text(None) == ""
    assert text_blocks("\n\n-\n") == []


def test_windows_line_endings_are_understood():
    assert text_blocks("A\r\n\r\n- b\r\n- c") == [("p", ["A"]), ("ul", ["b", "c"])]


def test_tel_href_keeps_digits_and_a_leading_plus():
    assert tel_href("010-000 00 01") == "0100000001"
    assert tel_href("+46 10 000 00 01") == "+46100000001"
    assert tel_href("") == ""
