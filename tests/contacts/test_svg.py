"""The care map picture: accessible, placed by closeness and kind, lines by frequency."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from django.utils import translation

from contacts import svg

NS = {"s": "http://www.w3.org/2000/svg"}

ENTRIES = [
    {
        "kind": "person",
        "name": "Ella",
        "closeness": "inner",
        "frequency": "daily",
        "direction": "cared_for_by_patient",
        "is_child": True,
    },
    {
        "kind": "person",
        "name": "Bo",
        "closeness": "outer",
        "frequency": "weekly",
        "direction": "cares_for_patient",
    },
    {
        "kind": "care_contact",
        "name": "Hemtjänsten <&>",
        "closeness": "middle",
        "frequency": "sometimes",
        "direction": "neither",
    },
]


def _tree():
    with translation.override("en"):
        return ET.fromstring(str(svg.render(ENTRIES, patient_name="Alva")))


def test_it_is_an_image_with_a_title_and_a_description():
    root = _tree()
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "care-map-title care-map-desc"
    assert root.find("s:title", NS).text == "Care map of Alva"
    desc = root.find("s:desc", NS).text
    assert "2 people" in desc and "1 care contacts" in desc and "listed below" in desc


def test_each_node_says_in_words_what_it_shows():
    titles = [
        g.find("s:title", NS).text
        for g in _tree().iterfind(".//s:g", NS)
        if g.find("s:title", NS) is not None
    ]
    assert titles[0].startswith("Ella, Relative, friend or other person, Closest (inner circle)")
    assert "a child" in titles[0]
    assert titles[2].startswith("Hemtjänsten <&>")  # escaped in the markup, text intact


def test_people_go_left_care_contacts_right_and_closeness_sets_the_ring():
    placed = {e["name"]: (x, y) for e, x, y in svg.positions(ENTRIES)}
    c = svg.CENTRE
    ella, bo, home = placed["Ella"], placed["Bo"], placed["Hemtjänsten <&>"]
    assert ella[0] < c and bo[0] < c and home[0] > c
    dist = lambda p: math.hypot(p[0] - c, p[1] - c)  # noqa: E731
    assert round(dist(ella)) == svg.RADIUS["inner"]
    assert round(dist(home)) == svg.RADIUS["middle"]
    assert round(dist(bo)) == svg.RADIUS["outer"]


def test_the_line_style_follows_the_frequency_and_arrows_the_direction():
    lines = _tree().findall("s:line", NS)
    by_class = {line.get("class").split("--")[1]: line for line in lines}
    assert by_class["daily"].get("stroke-dasharray") is None
    assert by_class["daily"].get("stroke-width") == "4"
    assert by_class["weekly"].get("stroke-dasharray") == "10 6"
    assert by_class["sometimes"].get("stroke-dasharray") == "2 6"
    assert by_class["daily"].get("marker-end") and not by_class["daily"].get("marker-start")
    assert by_class["weekly"].get("marker-start") and not by_class["weekly"].get("marker-end")
    assert not by_class["sometimes"].get("marker-start") and not by_class["sometimes"].get(
        "marker-end"
    )


def test_no_inline_styles_and_an_empty_map_still_draws():
    markup = str(svg.render([], patient_name="Alva"))
    assert "style=" not in markup and "<svg" in markup
    ET.fromstring(markup)


def test_entries_of_one_kind_never_share_a_direction():
    many = [
        {"kind": "person", "name": f"P{i}", "closeness": c}
        for i, c in enumerate(["inner", "middle", "outer", "inner", "outer"])
    ]
    angles = {
        round(math.atan2(y - svg.CENTRE, x - svg.CENTRE), 3) for _e, x, y in svg.positions(many)
    }
    assert len(angles) == 5


def test_long_names_stay_inside_the_picture():
    root = ET.fromstring(
        str(
            svg.render(
                [
                    {
                        "kind": "care_contact",
                        "name": "Onkologiska kliniken Stockholm",
                        "closeness": "outer",
                    }
                ],
                patient_name="Alva",
            )
        )
    )
    label = [
        t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text.startswith("Onkolog")
    ][0]
    assert float(label.get("x")) + len(label.text) * 5.5 <= svg.SIZE


# --- Right to left (issue 14) ------------------------------------------------------------


def _nodes(root):
    found = {}
    for g in root.iter(f"{{{NS['s']}}}g"):
        cls = g.get("class", "")
        shape = g.find("s:circle", NS) if "person" in cls else g.find("s:rect", NS)
        if shape is None:
            continue
        x = float(shape.get("cx") or float(shape.get("x")) + 21)
        found[g.find("s:title", NS).text.split(",")[0]] = x
    return found


def _halves(root):
    return {
        t.get("class").split("--")[1]: (float(t.get("x")), t.get("text-anchor", "start"))
        for t in root.iter(f"{{{NS['s']}}}text")
        if "care-map__half--" in (t.get("class") or "")
    }


def test_in_arabic_the_care_map_is_mirrored():
    with translation.override("sv"):
        ltr = ET.fromstring(str(svg.render(ENTRIES, patient_name="Alva")))
    with translation.override("ar"):
        rtl = ET.fromstring(str(svg.render(ENTRIES, patient_name="Alva")))
    assert (ltr.get("direction"), rtl.get("direction")) == ("ltr", "rtl")
    left, right = _nodes(ltr), _nodes(rtl)
    centre = svg.SIZE / 2
    # People where reading starts (the right), care contacts on the left, each mirrored.
    assert left["Ella"] < centre < right["Ella"]
    assert right["Hemtjänsten <&>"] < centre < left["Hemtjänsten <&>"]
    for name, x in left.items():
        assert math.isclose(right[name], svg.SIZE - x, abs_tol=0.2)
    # The halves' labels swap sides; with direction="rtl" "start" is the right edge, so
    # "People" hugs the right edge of the picture and "Care contacts" the left.
    halves = _halves(rtl)
    assert halves["person"] == (svg.SIZE - 24, "start")
    assert halves["care_contact"] == (24, "end")
    with translation.override("en"):
        described = ET.fromstring(str(svg.render(ENTRIES, patient_name="Alva", rtl=True)))
    assert "2 people on the right, 1 care contacts on the left" in (
        described.find("s:desc", NS).text
    )


def test_the_care_map_direction_can_be_asked_for_explicitly():
    with translation.override("ar"):
        root = ET.fromstring(str(svg.render(ENTRIES, patient_name="Alva", rtl=False)))
    assert root.get("direction") == "ltr"
    assert _nodes(root)["Ella"] < svg.SIZE / 2
