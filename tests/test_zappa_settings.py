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
    # Off where Zappa's request could not succeed: the emulator's URL answers nothing,
    # and staging's and production's refuse anything that skipped CloudFront.
    assert config.get("touch", True) is (stage == "dev")


# Each stage's IAM policy is rendered at deploy time: tests/cms/test_iam_policy.py.


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_declares_how_requests_reach_it(stage):
    """Dev is API Gateway alone (one proxy, the host as sent, no CloudFront check); the
    CloudFront-fronted stages keep production settings' defaults (two proxies, the
    forwarded host, the origin check). Every API is regional: no AWS-managed CloudFront
    in front adding an X-Forwarded-For entry of its own, and no other front door."""
    config = stage_config(stage)
    env = config["aws_environment_variables"]
    shape = {k: env.get(k) for k in ("TRUSTED_PROXY_COUNT", "USE_X_FORWARDED_HOST",
                                     "ORIGIN_VERIFY_REQUIRED")}  # fmt: skip
    if stage in ("dev", "emulator"):
        assert shape == {"TRUSTED_PROXY_COUNT": "1", "USE_X_FORWARDED_HOST": "false",
                         "ORIGIN_VERIFY_REQUIRED": "false"}  # fmt: skip
    else:
        assert shape == dict.fromkeys(shape)
        assert config["touch"] is False  # the API Gateway URL refuses by design
    assert config["endpoint_configuration"] == ["REGIONAL"]
    assert not config.get("function_url_enabled")
    assert not config.get("alb_enabled")
    assert not {"ORIGIN_VERIFY_SECRETS", "SECRET_KEY_FALLBACKS"} & set(env)  # secrets


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
        if top == "staticfiles":
            continue  # collected into the build copy only; test_lambda_package checks it
        if (ROOT / top).exists():
            assert list(ROOT.glob(pattern)), pattern
        else:
            spec = importlib.util.find_spec(top)
            assert spec is not None, pattern
            package = Path(spec.origin).parent
            assert list(package.parent.glob(pattern)), pattern
