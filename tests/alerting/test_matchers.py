import pytest

from stackwatch.alerting.matchers import MatcherError, parse_matcher, parse_matchers

LABELS = {"alertname": "HostDown", "severity": "critical", "host": "compute-1", "role": "compute"}


@pytest.mark.parametrize("text, matches", [
    ('severity="critical"', True),
    ('severity!="critical"', False),
    ('severity=~"critical|warning"', True),
    ('severity=~"crit"', False),                 # anchored at both ends, as Alertmanager
    ('severity!~"warning|info"', True),
    ('host=~"compute-.*"', True),
    ("host=compute-1", True),                   # unquoted value
    ('region=""', True),                        # a missing label is the empty string
    ('region!=""', False),
    ('summary="a \\"quoted\\" word"', False),
    ('  role = "compute" ', True),
])
def test_matcher_table(text, matches):
    assert parse_matcher(text).matches(LABELS) is matches


def test_matcher_set_and_round_trip():
    ms = parse_matchers('{alertname="HostDown", severity=~"critical|warning", note="a,b"}')
    assert [str(m) for m in ms] == ['alertname="HostDown"', 'severity=~"critical|warning"', 'note="a,b"']
    assert all(m.matches({**LABELS, "note": "a,b"}) for m in ms)
    assert str(parse_matcher('x="q\\"t"')) == 'x="q\\"t"'


@pytest.mark.parametrize("text, says", [
    ('severity=~"critical|(warning"', "bad regular expression"),
    ('severity=="critical"', "unexpected"),
    ('="x"', "no label name"),
    ("severity", "no label name and operator"),
    ('1abc="x"', "bad label name"),
    ('host="compute-1', "not closed"),
    ('{host="a"', "missing closing brace"),
])
def test_bad_matchers_say_what_is_wrong(text, says):
    with pytest.raises(MatcherError) as err:
        parse_matchers(text)
    assert says in str(err.value)
