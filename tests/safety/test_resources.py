"""The crisis resources: each shipped region, the fallback, and tel digits an
operator cannot get wrong silently."""

from __future__ import annotations

import json
import shutil

import pytest

from coach.errors import ConfigurationError
from coach.safety.resources import ResourceDirectory, emergency_words, helplines_markdown


def test_us_has_the_988_lifeline_by_call_and_text_and_911(directory):
    us = directory.crisis_resources("US")
    lifeline = us.lines[0]
    assert lifeline.name == "988 Suicide & Crisis Lifeline"
    assert set(lifeline.how) == {"call", "text"}
    assert (lifeline.number, lifeline.tel) == ("988", "988")
    assert [e.tel for e in us.emergency] == ["911"]


@pytest.mark.parametrize(("region", "emergency"), [("GB", ["999"]), ("IE", ["112", "999"])])
def test_gb_and_ie_have_samaritans_free_all_day_and_night(directory, region, emergency):
    resources = directory.crisis_resources(region)
    samaritans = next(line for line in resources.lines if line.name == "Samaritans")
    assert (samaritans.number, samaritans.tel) == ("116 123", "116123")
    assert samaritans.free
    assert samaritans.hours == "24/7"
    assert [e.tel for e in resources.emergency] == emergency


def test_intl_points_to_a_helpline_directory_and_the_local_number(directory):
    intl = directory.crisis_resources("INTL")
    assert intl.lines[0].url == "https://findahelpline.com"
    assert intl.emergency == ()
    assert emergency_words(intl, "your local emergency number") == "your local emergency number"


@pytest.mark.parametrize("region", [None, "", "FR", "nowhere"])
def test_an_unknown_region_falls_back_to_intl(directory, region):
    assert directory.crisis_resources(region).region == "INTL"


@pytest.mark.parametrize(("asked", "given"), [("us", "US"), (" gb ", "GB"), ("UK", "GB")])
def test_region_codes_are_forgiving(directory, asked, given):
    assert directory.crisis_resources(asked).region == given


@pytest.mark.parametrize("region", ["US", "GB", "IE", "INTL"])
def test_every_tel_is_the_digits_of_its_number(directory, region):
    resources = directory.crisis_resources(region)
    for line in resources.lines:
        if "call" in line.how:
            assert line.tel and line.tel.isdigit()
            assert line.tel == "".join(c for c in str(line.number) if c.isdigit())
    for emergency in resources.emergency:
        assert emergency.tel.isdigit()


@pytest.mark.parametrize("region", ["US", "GB", "IE", "INTL"])
def test_the_api_gets_plain_json_and_the_page_a_list(directory, region):
    resources = directory.crisis_resources(region)
    dumped = json.loads(json.dumps(resources.model_dump(mode="json")))
    assert dumped["region"] == region
    assert {"name", "how", "number", "tel", "url", "hours"} <= set(dumped["lines"][0])
    markdown = helplines_markdown(resources)
    assert markdown.count("\n- ") == len(resources.lines) - 1
    for line in resources.lines:
        assert line.name in markdown


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('tel = "116123"', 'tel = "116124"', "does not match"),
        ('tel = "988"', 'tel = "nine"', "tel"),
        ('fallback = "INTL"', 'fallback = "XX"', "fallback region"),
        ('UK = "GB"', 'UK = "UKX"', "unknown region"),
        ('url = "https://988lifeline.org"', 'url = "988lifeline.org"', "url"),
        ('how = ["call", "text"]', 'how = ["pigeon"]', "how"),
    ],
)
def test_a_broken_resources_file_is_a_clear_error(tmp_path, prompts_dir, old, new, message):
    shutil.copytree(prompts_dir / "safety", tmp_path / "safety")
    path = tmp_path / "safety" / "resources.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ConfigurationError, match=r"resources\.toml") as raised:
        ResourceDirectory.load(tmp_path)
    assert message in str(raised.value)
