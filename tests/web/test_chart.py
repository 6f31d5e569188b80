"""chart.py on its own: well-formed SVG, empty ranges, gaps, bands, ticks and escaping."""

import xml.etree.ElementTree as ET

from stackwatch.web import chart

SVG = "{http://www.w3.org/2000/svg}"
T0 = 1_700_000_000.0


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything not well-formed


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(SVG + "text")]


def test_empty_range_says_so():
    root = parse(chart.render_svg([], T0, T0 + 3600, 600, 200, "empty"))
    assert chart.NO_DATA in texts(root)
    assert not list(root.iter(SVG + "path"))


def test_line_with_axis_labels():
    points = [(T0 + i * 60, float(i), float(i), float(i)) for i in range(61)]
    root = parse(chart.render_svg(points, T0, T0 + 3600, 800, 300, "load", unit=""))
    assert len(list(root.iter(SVG + "path"))) == 1
    labels = texts(root)
    assert any(":" in t and len(t) == 5 for t in labels)          # HH:MM time ticks
    assert "0" in labels and "60" in labels                       # value ticks cover the data
    assert not list(root.iter(SVG + "polygon"))                    # raw points: no min/max band


def test_gap_breaks_the_line():
    before = [(T0 + i * 10, 1.0, 1.0, 1.0) for i in range(11)]
    after = [(T0 + 300 + i * 10, 2.0, 2.0, 2.0) for i in range(11)]   # 200s hole, spacing 10s
    assert [len(s) for s in chart.segments(before + after)] == [11, 11]
    root = parse(chart.render_svg(before + after, T0, T0 + 400, 600, 200, "gappy"))
    assert len(list(root.iter(SVG + "path"))) == 2


def test_small_irregularity_is_not_a_gap():
    points = [(T0 + t, 1.0, 1.0, 1.0) for t in (0, 10, 20, 44, 54, 64)]  # 24s < 2.5 × 10s
    assert len(chart.segments(points)) == 1


def test_lonely_point_is_drawn_as_a_dot():
    points = [(T0 + i * 10, 1.0, 1.0, 1.0) for i in range(5)] + [(T0 + 1000, 3.0, 3.0, 3.0)]
    root = parse(chart.render_svg(points, T0, T0 + 1200, 600, 200, "x"))
    assert len(list(root.iter(SVG + "circle"))) == 1


def test_rollup_band():
    points = [(T0 + i * 3600, 5.0, 1.0, 9.0) for i in range(24)]
    root = parse(chart.render_svg(points, T0, T0 + 86400, 600, 200, "band"))
    assert len(list(root.iter(SVG + "polygon"))) == 1
    assert "10" in texts(root)  # the axis reaches the band's max, not only the mean


def test_title_and_unit_are_escaped():
    title = 'm{host="<script>alert(1)</script>"} & co'
    svg = chart.render_svg([(T0, 1.0, 1.0, 1.0)], T0, T0 + 60, 600, 200, title, unit="<b>")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert title in texts(root)
    assert root.find(SVG + "title").text == title


def test_non_finite_values_are_gaps_not_errors():
    points = [(T0, 1.0, 1.0, 1.0), (T0 + 10, float("nan"), 0.0, 0.0), (T0 + 20, float("inf"), 1, 1)]
    parse(chart.render_svg(points, T0, T0 + 60, 600, 200, "nan"))


def test_time_ticks_match_the_span():
    day = chart.time_ticks(T0, T0 + 86400)
    assert all(len(label) == 5 and label[2] == ":" for _, label in day)
    month = chart.time_ticks(T0, T0 + 30 * 86400)
    assert 3 <= len(month) <= 8
    assert all(label[:3].isalpha() for _, label in month)     # "Nov 16"


def test_value_ticks_and_format():
    ticks, step = chart.value_ticks(10, 96)
    assert ticks == [0, 20, 40, 60, 80, 100] and step == 20
    ticks, step = chart.value_ticks(5, 5)
    assert ticks[0] < 5 < ticks[-1]
    assert chart.format_value(1.5e9, 5e8, 2e9, "B") == "1.5 GB"
    assert chart.format_value(40, 20, 100, "%") == "40%"
    assert chart.format_value(0.25, 0.05, 1) == "0.25"
