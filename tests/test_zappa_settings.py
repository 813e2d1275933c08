"""zappa_settings.json: every stage loads, names real functions, keeps secrets out, and
names no resource of its own: those come from the stage's stack when make deploy writes
the build copy's settings (cms.lambda_build.stage_settings_from_outputs)."""

import json
import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from cms import lambda_build
from tests.lambda_fixtures import (
    ROOT,
    deployed_settings_file,
    rule_name,
    stack_outputs,
    stage_config,
    zappa_cli,
)

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
def test_the_stage_has_a_minute_tick_and_its_stacks_bucket_and_queue_as_event_sources(stage):
    config = stage_config(stage)
    ticks = [e for e in config["events"] if e.get("expression") == "rate(1 minute)"]
    assert [t["function"] for t in ticks] == ["sitecontent.events.publishing_tick"]
    sources = {e["function"]: e["event_source"] for e in config["events"] if "event_source" in e}
    # Committed: placeholders for the stack's outputs, the same for every stage.
    assert sources["sitecontent.events.media_uploaded"]["arn"] == "arn:aws:s3:::${MediaBucket}"
    assert sources["cms.task_backends.record_dead_letters"]["arn"] == "${DeadLetterQueueArn}"
    # Zappa 0.63's S3 source reads "prefix"; the older "key_filters" is silently ignored.
    assert sources["sitecontent.events.media_uploaded"]["prefix"] == "uploads/"
    assert "key_filters" not in sources["sitecontent.events.media_uploaded"]

    outputs = stack_outputs(stage)
    deployed = lambda_build.stage_settings_from_outputs(stage, config, outputs)
    sources = {e["function"]: e["event_source"] for e in deployed["events"] if "event_source" in e}
    assert sources == {
        "sitecontent.events.media_uploaded": {
            "arn": f"arn:aws:s3:::{outputs['MediaBucket']}",
            "events": ["s3:ObjectCreated:*"],
            "prefix": "uploads/",
        },
        "cms.task_backends.record_dead_letters": {
            "arn": outputs["DeadLetterQueueArn"],
            "batch_size": 10,
        },
    }
    assert "${" not in json.dumps(deployed)


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
    # Off everywhere: every stage refuses what skipped its CloudFront distribution, and
    # Zappa's request goes to the API Gateway URL.
    assert config["touch"] is False


@pytest.mark.parametrize("stage", STAGES)
def test_snapstart_stages_run_no_keep_warm_and_no_stage_loads_django_at_every_init(stage):
    """Under SnapStart (docs/snapstart.md) keep-warm only costs: its pings invoke $LATEST,
    which has no snapshot. cms.lambda_entry loads Django at a SnapStart init by itself;
    Zappa's INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT would load it at every stage's init,
    snapshot or not, so no stage sets it."""
    config = stage_config(stage)
    snap_start = config.get("snap_start", "None") not in ("None", None)
    if snap_start:
        assert config["keep_warm"] is False
        assert config.get("num_retained_versions", 0) >= 2
    assert stage != "production" or snap_start
    variables = {**config.get("aws_environment_variables", {}),
                 **config.get("environment_variables", {})}  # fmt: skip
    assert "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT" not in variables


@pytest.mark.parametrize("stage", STAGES)
def test_the_committed_stage_names_no_resource_the_stack_makes(stage):
    """The stack is the one home of the stage's bucket, domain, distribution, role,
    network and secrets; a value here as well would drift from it (and make deploy refuses
    one that differs)."""
    config = stage_config(stage)
    from_stack = {*lambda_build.OUTPUT_VARIABLES, *lambda_build.OPTIONAL_OUTPUT_VARIABLES,
                  *lambda_build.DERIVED_VARIABLES}  # fmt: skip
    assert not from_stack & set(config["aws_environment_variables"])
    assert not {"role_arn", "vpc_config", "dead_letter_arn"} & set(config)
    text = json.dumps(config)
    assert "arn:aws:" not in text.replace("arn:aws:s3:::${MediaBucket}", "")
    assert "example.com" not in text
    # A zappa deploy that skips make deploy gets a role that can do nothing
    # (tests/cms/test_iam_policy.py: the committed policy file denies all).
    assert (config["manage_roles"], config["attach_policy"]) == (True, "zappa_iam_policy.json")


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_is_reached_through_its_own_cloudfront_distribution(stage):
    """Every stage, dev and the emulator included, has a distribution of its own (its
    dxxxx.cloudfront.net address unless infra/stages.json gives a domain), so each keeps
    production settings' defaults: two proxies, the forwarded host, the origin check. The
    emulator rehearses what a real stage deploys, so it has the same shape (moto's
    CloudFront serves nothing, and make deploy smoke-tests SMOKE_URL there). Every API is
    regional: no AWS-managed CloudFront in front adding an X-Forwarded-For entry of its
    own, and no other front door."""
    config = stage_config(stage)
    env = config["aws_environment_variables"]
    shape = {"TRUSTED_PROXY_COUNT", "USE_X_FORWARDED_HOST", "ORIGIN_VERIFY_REQUIRED"}
    assert not shape & set(env)
    assert lambda_build.requires_cloudfront(config)
    assert config["endpoint_configuration"] == ["REGIONAL"]
    assert not config.get("function_url_enabled")
    assert not config.get("alb_enabled")
    assert not {"ORIGIN_VERIFY_SECRETS", "SECRET_KEY_FALLBACKS"} & set(env)  # secrets


@pytest.mark.parametrize("stage", STAGES)
def test_zappa_generates_the_handler_settings_with_the_s3_and_dead_letter_routes(stage, tmp_path):
    settings_file = deployed_settings_file(tmp_path, stage)
    zappa_cli("save-python-settings-file", stage, "-s", settings_file,
              "-o", tmp_path / "zappa_settings.py")  # fmt: skip
    generated = (tmp_path / "zappa_settings.py").read_text()
    outputs = stack_outputs(stage)
    [mapping] = [line for line in generated.splitlines() if line.startswith("AWS_EVENT_MAPPING=")]
    assert eval(mapping.split("=", 1)[1]) == {  # noqa: S307 (Zappa writes a dict literal)
        f"arn:aws:s3:::{outputs['MediaBucket']}": ["sitecontent.events.media_uploaded"],
        outputs["DeadLetterQueueArn"]: ["cms.task_backends.record_dead_letters"],
    }
    assert "DEBUG=False" in generated
    # The function's variables are set on it by Zappa, not baked into the package.
    assert outputs["DjangoSecretArn"] not in generated


def test_infra_is_never_shipped():
    assert "infra" in stage_config("dev")["exclude"]


def test_no_exclude_name_matches_a_part_of_the_code_that_must_ship():
    """Zappa drops every file or folder whose name matches an "exclude" entry, at any
    depth (shutil.ignore_patterns): a name like "media" would also drop sitecontent/media/.
    (The build copy holds only files git tracks, so the local media/ folder never ships.)"""
    from fnmatch import fnmatch

    from cms.lambda_build import project_files

    patterns = stage_config("dev")["exclude"]
    shipped = [
        name
        for name in project_files()
        if name.split("/", 1)[0] in {"cms", "sitecontent", "templates", "static"}
        and not name.endswith((".md", ".po"))
    ]
    assert len(shipped) > 100  # the listing sees the code
    dropped = [
        (name, pattern)
        for name in shipped
        if "__pycache__" not in name
        for part in name.split("/")
        for pattern in patterns
        if fnmatch(part, pattern)
    ]
    assert dropped == []


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
