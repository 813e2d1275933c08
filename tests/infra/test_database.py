"""The database's side of each stage's stack: the server settings a transaction pooler
needs (infra/template.py's parameter group and RDS Proxy's pool), and the function's
reserved concurrency derived from the connections (infra.config, cms.lambda_build).
docs/database.md explains the figures."""

import json
from dataclasses import replace

import pytest

from cms import iam_policy, lambda_build
from infra import config, template
from tests.lambda_fixtures import stack_outputs

STAGES = list(json.loads(config.STAGES_FILE.read_text()))


def render(stage) -> dict:
    return json.loads(template.build(config.load(stage)).to_json())


def lambda_timeout_ms(stage) -> int:
    return int(iam_policy.stage_settings(stage).get("timeout_seconds", 30)) * 1000


@pytest.mark.parametrize("stage", STAGES)
def test_the_database_ends_stuck_work_before_the_function_times_out(stage):
    body = render(stage)
    kinds = ("AWS::RDS::DBParameterGroup", "AWS::RDS::DBClusterParameterGroup")
    [group] = [r for r in body["Resources"].values() if r["Type"] in kinds]
    parameters = group["Properties"]["Parameters"]
    timeout = lambda_timeout_ms(stage)
    for name in ("statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout"):
        assert 0 < int(parameters[name]) < timeout, name
    # UTC, so Django's connection setup sends no SET TIME ZONE (which would pin).
    assert parameters["timezone"] == "UTC"
    family = group["Properties"]["Family"]
    if config.load(stage).database == "aurora-serverless":
        assert family == f"aurora-postgresql{template.AURORA_ENGINE_VERSION.split('.')[0]}"
        cluster = body["Resources"]["DatabaseCluster"]["Properties"]
        assert cluster["DBClusterParameterGroupName"] == {"Ref": "DatabaseParameters"}
    else:
        assert family == f"postgres{template.POSTGRES_ENGINE_VERSION.split('.')[0]}"
        instance = body["Resources"]["Database"]["Properties"]
        assert instance["DBParameterGroupName"] == {"Ref": "DatabaseParameters"}


def test_the_proxys_pool_is_what_the_concurrency_is_sized_from():
    [stage] = [s for s in STAGES if config.load(s).database == "rds-proxy"]
    pool = render(stage)["Resources"]["DatabaseProxyTargets"]["Properties"][
        "ConnectionPoolConfigurationInfo"
    ]
    assert pool["MaxConnectionsPercent"] == config.PROXY_MAX_CONNECTIONS_PERCENT
    assert pool["ConnectionBorrowTimeout"] * 1000 < lambda_timeout_ms(stage)
    assert pool["MaxIdleConnectionsPercent"] <= pool["MaxConnectionsPercent"]


def test_the_site_sets_nothing_on_connect_that_a_proxy_would_pin_on():
    """No startup options (``-c statement_timeout=...``) and no role or isolation level to
    SET: the timeouts are the server's. connect_timeout is the client's own."""
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {})
    assert not {"options", "assume_role", "isolation_level"} & set(options)


@pytest.mark.parametrize(
    ("sizing", "database", "expected_max", "expected_concurrency"),
    [
        # Aurora: ACUs x 2 GiB / 9531392, less 5 reserved, capped per stage at 150.
        (config.Aurora(0, 1, 300), "aurora-serverless", 225, 150),
        (config.Aurora(0, 0.5, 300), "aurora-serverless", 112, 107),
        (config.Aurora(0, 4, 300), "aurora-serverless", 901, 150),
        # An instance behind RDS Proxy: 90% of its memory / 9531392, 75% to the proxy.
        (config.RdsProxy("db.t4g.micro", 20, True), "rds-proxy", 101, 75),
        (config.RdsProxy("db.t4g.small", 20, True), "rds-proxy", 202, 150),
        (config.RdsProxy("db.t3.micro", 20, False), "rds-proxy", 101, 75),
    ],
)
def test_lambda_concurrency_is_one_container_per_connection(
    sizing, database, expected_max, expected_concurrency
):
    stage = replace(config.load("production"), database=database, sizing=sizing)
    assert config.max_connections(stage) == expected_max
    assert config.lambda_concurrency(stage) == expected_concurrency
    assert config.lambda_concurrency(stage) <= config.site_connections(stage)


@pytest.mark.parametrize(
    ("instance_class", "gib"),
    [("db.t4g.micro", 1), ("db.t3.medium", 4), ("db.m6g.large", 8), ("db.r6g.xlarge", 32),
     ("db.m7g.2xlarge", 32), ("db.r7g.16xlarge", 512)],
)  # fmt: skip
def test_instance_memory(instance_class, gib):
    assert config.instance_memory_gib(instance_class) == gib


def test_an_unknown_instance_family_is_a_config_error_naming_the_fix():
    with pytest.raises(config.ConfigError, match="FAMILY_LARGE_GIB"):
        config.instance_memory_gib("db.z1d.large")


def test_every_default_stage_fits_one_default_account_together():
    """Lambda keeps 100 of an account's 1000 unreserved."""
    assert sum(config.lambda_concurrency(config.load(s)) for s in STAGES) <= 900


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_the_deployed_settings_carry_the_derived_concurrency(stage):
    deployed = lambda_build.stage_settings_from_outputs(
        stage, iam_policy.stage_settings(stage), stack_outputs(stage)
    )
    assert deployed["lambda_concurrency"] == config.lambda_concurrency(config.load(stage))


def test_a_hand_set_concurrency_is_refused():
    settings = {**iam_policy.stage_settings("staging"), "lambda_concurrency": 999}
    with pytest.raises(lambda_build.BuildError, match="lambda_concurrency"):
        lambda_build.stage_settings_from_outputs("staging", settings, stack_outputs("staging"))


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_the_connect_timeout_waits_for_a_paused_cluster_to_resume_only_where_one_pauses(stage):
    deployed = lambda_build.stage_settings_from_outputs(
        stage, iam_policy.stage_settings(stage), stack_outputs(stage)
    )
    variables = deployed["aws_environment_variables"]
    if config.load(stage).database == "aurora-serverless":
        # Resuming takes about 15 s (30 s after a day paused); below the function's timeout.
        timeout = int(variables["DATABASE_CONNECT_TIMEOUT"])
        assert 30 < timeout < lambda_timeout_ms(stage) / 1000
    else:
        # The settings' default (5 s): a dead database fails fast.
        assert "DATABASE_CONNECT_TIMEOUT" not in variables
