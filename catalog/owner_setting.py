"""Owner settings: what an app lets its owner set, and whether a given text is a valid value.

The declaration (``OwnerSetting``) checks itself when parsed (its default must be one
of its own values).  ``owner_setting_problem`` is the one rule both the publisher and
the node apply to a value; it never quotes the value back, because it may be a secret.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from catalog.manifest_fields import SETTING_NAME_PATTERN, SettingValue, ShortText, StrictModel

OwnerSettingType = Literal["string", "secret", "integer", "boolean", "enum"]


class OwnerSetting(StrictModel):
    """A value only the node's owner has (an auth key, a domain): ``archy-node configure``.

    ``secret`` values are never echoed and are read with ``--from-file``; every
    value is kept 0600 on the node, removed only by ``uninstall --purge``.
    """

    name: Annotated[str, StringConstraints(pattern=SETTING_NAME_PATTERN)]
    type: OwnerSettingType = "string"
    required: bool = False
    default: SettingValue | None = Field(
        default=None, description="the value when the owner sets none (not with required)"
    )
    help: ShortText = Field(description="one line telling the owner what to enter")
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="a regular expression the whole value must match (strings)"
    )
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, description="the allowed values of an enum"
    )

    @model_validator(mode="after")
    def consistent(self) -> OwnerSetting:
        if self.required and self.default is not None:
            raise ValueError(f"setting {self.name!r}: required and default exclude each other")
        if (self.type == "enum") != bool(self.choices):
            raise ValueError(f"setting {self.name!r}: choices go with type enum, and only with it")
        if self.pattern is not None:
            if self.type not in ("string", "secret"):
                raise ValueError(f"setting {self.name!r}: pattern only for string and secret")
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(
                    f"setting {self.name!r}: pattern is not a regex ({error})"
                ) from None
        if self.type == "secret" and self.default is not None:
            raise ValueError(f"setting {self.name!r}: a secret setting has no default")
        if self.default is not None:
            problem = owner_setting_problem(self, setting_text(self.default))
            if problem is not None:
                raise ValueError(f"setting {self.name!r}: default {problem}")
        return self


def setting_text(value: SettingValue) -> str:
    """How a setting value is handed to a container: true/false, digits, or the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


def owner_setting_problem(setting: OwnerSetting, text: str) -> str | None:
    """Why ``text`` is not a value of ``setting`` (never quoting a secret), or None."""
    if "\x00" in text or "\n" in text or len(text) > 4000:
        return "must be one line of at most 4000 characters"
    if setting.type == "integer" and _INTEGER.fullmatch(text) is None:
        return "must be a whole number"
    if setting.type == "boolean" and text not in ("true", "false"):
        return "must be true or false"
    if setting.type == "enum" and text not in setting.choices:
        return f"must be one of {', '.join(setting.choices)}"
    if setting.pattern is not None and re.fullmatch(setting.pattern, text) is None:
        return f"must match {setting.pattern}"
    if setting.type in ("string", "secret") and not text:
        return "must not be empty"
    return None
