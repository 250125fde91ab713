"""WEBHOOK_ALLOW_PRIVATE and WEBHOOK_TIMEOUT_SECONDS are checked like every other setting (SPEC §3, §15)."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, load_config


def config(tmp_path, **environ):
    return load_config({"APP_ENV": "testing", "SECRET_KEY": "x" * 40, **environ}, folder=tmp_path)


def test_private_targets_are_refused_by_default_and_the_timeout_is_10_seconds(tmp_path):
    values = config(tmp_path)
    assert values["WEBHOOK_ALLOW_PRIVATE"] is False
    assert values["WEBHOOK_TIMEOUT_SECONDS"] == 10


@pytest.mark.parametrize("raw", ["true", "TRUE", " true "])
def test_private_targets_can_be_allowed(tmp_path, raw):
    assert config(tmp_path, WEBHOOK_ALLOW_PRIVATE=raw)["WEBHOOK_ALLOW_PRIVATE"] is True


@pytest.mark.parametrize(
    ("name", "raw"),
    [("WEBHOOK_ALLOW_PRIVATE", "yes please"), ("WEBHOOK_TIMEOUT_SECONDS", "0"), ("WEBHOOK_TIMEOUT_SECONDS", "ten")],
)
def test_a_malformed_webhook_setting_stops_start_up_naming_it(tmp_path, name, raw):
    with pytest.raises(ConfigError) as refused:
        config(tmp_path, **{name: raw})
    assert str(refused.value).startswith(name) and "\n" not in str(refused.value)
