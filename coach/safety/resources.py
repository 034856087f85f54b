"""The crisis resources: helplines and emergency numbers per region, as data an
operator can extend (`prompts/safety/resources.toml`).

`crisis_resources(region)` gives the structured `Resources` that the API puts
in a reply's `safety` field and the web page turns into `tel:` links;
`helplines_markdown` and `emergency_words` give the same facts as text for
the fixed replies in `coach.safety.replies`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from coach.safety.rule_data import Strict, load_validated

RESOURCES_FILE = Path("safety") / "resources.toml"
How = Literal["call", "text", "web"]


def _digits(number: str) -> str:
    return re.sub(r"[^0-9+]", "", number)


class EmergencyNumber(Strict):
    number: str = Field(min_length=1)
    tel: str = Field(pattern=r"^\+?[0-9]+$")

    @model_validator(mode="after")
    def _tel_is_the_number(self) -> EmergencyNumber:
        if _digits(self.number) != self.tel:
            raise ValueError(f"tel {self.tel!r} does not match number {self.number!r}")
        return self


class HelpLine(Strict):
    name: str = Field(min_length=1)
    how: tuple[How, ...] = Field(min_length=1)
    number: str | None = None
    tel: str | None = Field(default=None, pattern=r"^\+?[0-9]+$")
    text_keyword: str | None = None
    url: str | None = Field(default=None, pattern=r"^https://\S+$")
    hours: str = Field(min_length=1)
    free: bool = False
    about: str | None = None

    @model_validator(mode="after")
    def _reachable_as_it_says(self) -> HelpLine:
        if "call" in self.how and not (self.number and self.tel):
            raise ValueError(f"{self.name}: a line to call needs a number and its tel digits")
        if "text" in self.how and not self.number:
            raise ValueError(f"{self.name}: a line to text needs a number")
        if "web" in self.how and not self.url:
            raise ValueError(f"{self.name}: a web line needs a url")
        if self.tel and self.number and _digits(self.number) != self.tel:
            raise ValueError(f"{self.name}: tel {self.tel!r} does not match {self.number!r}")
        return self


class Region(Strict):
    name: str = Field(min_length=1)
    lines: tuple[HelpLine, ...] = Field(min_length=1)
    emergency: tuple[EmergencyNumber, ...]


class Resources(Region):
    """One region's resources, as the API's `safety` field carries them."""

    region: str


class ResourceFile(Strict):
    fallback: str
    aliases: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, Region]

    @model_validator(mode="after")
    def _fallback_exists(self) -> ResourceFile:
        for code in self.regions:
            if not re.fullmatch(r"[A-Z]{2,5}", code):
                raise ValueError(f"region code {code!r} must be 2 to 5 capital letters")
        if self.fallback not in self.regions:
            raise ValueError(f"fallback region {self.fallback!r} is not listed")
        for alias, code in self.aliases.items():
            if code not in self.regions:
                raise ValueError(f"alias {alias} names unknown region {code!r}")
        return self


class ResourceDirectory:
    """Every region's crisis resources, loaded once."""

    def __init__(self, data: ResourceFile) -> None:
        self.fallback = data.fallback
        self.aliases = data.aliases
        self.by_region = {
            code: Resources(region=code, **region.model_dump())
            for code, region in data.regions.items()
        }

    @classmethod
    def load(cls, prompts_dir: Path) -> ResourceDirectory:
        return cls(load_validated(prompts_dir / RESOURCES_FILE, ResourceFile))

    def crisis_resources(self, region: str | None) -> Resources:
        """The resources for `region` (a code such as "US"), or the fallback's."""
        code = (region or "").strip().upper()
        code = self.aliases.get(code, code)
        return self.by_region.get(code) or self.by_region[self.fallback]


def _how_to_reach(line: HelpLine) -> str:
    ways = []
    if "call" in line.how and "text" in line.how and not line.text_keyword:
        ways.append(f"call or text {line.number}")
    else:
        if "call" in line.how:
            ways.append(f"call {line.number}")
        if "text" in line.how:
            keyword = f"{line.text_keyword} to " if line.text_keyword else ""
            ways.append(f"text {keyword}{line.number}")
    if line.url:
        ways.append(f"<{line.url}>")
    return ", ".join(ways)


def helplines_markdown(resources: Resources) -> str:
    """The region's lines as a Markdown list, one line per service."""
    items = []
    for line in resources.lines:
        details = ", ".join(["free"] * line.free + [line.hours])
        about = f", {line.about}" if line.about else ""
        items.append(f"- **{line.name}**: {_how_to_reach(line)}{about} ({details})")
    return "\n".join(items)


def emergency_words(resources: Resources, without_number: str) -> str:
    """ "911", "112 or 999", or `without_number` where the region lists none."""
    numbers = [f"**{emergency.number}**" for emergency in resources.emergency]
    return " or ".join(numbers) if numbers else without_number
