"""zappa_settings.json: every stage loads, names real functions and keeps secrets out."""

import json
import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from tests.lambda_fixtures import ROOT, rule_name, stage_config, zappa_cli

SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())
STAGES = list(SETTINGS)
DEPLOYED_STAGES = ["dev", "staging", "production"]
FUNCTION_PATH = re.compile(r"^[._A-Za-z0-9]{0,63}$")


def test_the_expected_stages_exist():
    assert set(DEPLOYED_STAGES) <= set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_every_event_names_an_importable_function_zappa_can_schedule(stage):
    config = stage_config(stage)
    assert config["events"], stage
    for event in config["events"]:
        function = event["function"]
        assert FUNCTION_PATH.match(function), function
        assert callable(import_string(function)), function
        if "expression" in event:
            rule = rule_name(function, stage=stage)
            assert rule.rsplit("-", 1)[-1] == function  # how Zappa's handler finds it
        assert "schedule_expression" not in event  # Zappa silently ignores that key


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_has_a_minute_tick_and_its_own_media_bucket_event(stage):
    config = stage_config(stage)
    ticks = [e for e in config["events"] if e.get("expression") == "rate(1 minute)"]
    assert [t["function"] for t in ticks] == ["sitecontent.events.publishing_tick"]
    [s3] = [e for e in config["events"] if "event_source" in e]
    bucket = config["aws_environment_variables"]["MEDIA_BUCKET"]
    assert s3["event_source"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert config["aws_environment_variables"]["MEDIA_DOMAIN"]
    # Zappa 0.63's S3 source reads "prefix"; the older "key_filters" is silently ignored.
    assert s3["event_source"]["prefix"] == "uploads/"
    assert "key_filters" not in s3["event_source"]


@pytest.mark.parametrize("stage", STAGES)
def test_production_like_defaults(stage):
    config = stage_config(stage)
    assert config["runtime"] == "python3.13"
    assert config["django_settings"] == "cms.settings.production"
    assert config["debug"] is False
    assert config["binary_support"] is True
    assert config["async_source"] == "lambda"
    assert "environment_variables" not in config  # those are baked into the zip
    secrets = {"SECRET_KEY", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY"}
    assert not secrets & set(config["aws_environment_variables"])
    assert config.get("touch", True) is (stage != "emulator")


def test_the_iam_policy_replaces_zappas_default_and_grants_no_wildcard_actions():
    policy_file = stage_config("dev")["attach_policy"]
    policy = json.loads((ROOT / policy_file).read_text())
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not [a for a in actions if a == "*" or a.endswith(":*")]
    resources = [s["Resource"] for s in policy["Statement"]]
    assert "arn:aws:s3:::*" not in resources


@pytest.mark.parametrize("stage", STAGES)
def test_zappa_generates_the_handler_settings_with_the_s3_route(stage, tmp_path):
    zappa_cli("save-python-settings-file", stage, "-o", tmp_path / "zappa_settings.py")
    generated = (tmp_path / "zappa_settings.py").read_text()
    bucket = stage_config(stage)["aws_environment_variables"]["MEDIA_BUCKET"]
    assert (
        f"AWS_EVENT_MAPPING={{'arn:aws:s3:::{bucket}': ['sitecontent.events.media_uploaded']}}"
        in generated
    )
    assert "DEBUG=False" in generated


def test_excluded_paths_exist_in_the_project_or_its_packages():
    """Exclude globs that match nothing are typos waiting to ship something."""
    import importlib.util

    for pattern in stage_config("dev")["exclude_glob"]:
        top = pattern.split("/", 1)[0]
        if (ROOT / top).exists():
            assert list(ROOT.glob(pattern)), pattern
        else:
            spec = importlib.util.find_spec(top)
            assert spec is not None, pattern
            package = Path(spec.origin).parent
            assert list(package.parent.glob(pattern)), pattern
