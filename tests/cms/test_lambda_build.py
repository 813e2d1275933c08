"""The build's own rules, without building: which files go in, what the package may not
hold, the placeholders it starts production settings with, how a stack's outputs become
the deployed stage's settings, and where it smoke-tests.
(The real zip is built in tests/test_lambda_package.py, the deploy in
tests/test_deploy_emulator.py.)"""

import http.server
import json
import subprocess
import sys
import threading
import zipfile

import pytest

from cms import lambda_build
from cms.iam_policy import stage_settings
from tests.cms.test_settings import run
from tests.lambda_fixtures import ROOT, stack_outputs


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_only_files_git_tracks_are_copied(tmp_path):
    git("init", "-q", cwd=tmp_path)
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / "app.py").write_text("print('shipped')\n")
    git("add", ".gitignore", "app.py", cwd=tmp_path)
    (tmp_path / "secrets.json").write_text('{"SECRET_KEY": "x"}')  # untracked, not ignored
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://u:p@h/d\n")  # ignored
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "draft.py").write_text("")
    assert sorted(lambda_build.project_files(tmp_path)) == [".gitignore", "app.py"]


def test_a_tracked_file_deleted_from_the_tree_is_not_copied(tmp_path):
    git("init", "-q", cwd=tmp_path)
    (tmp_path / "gone.py").write_text("")
    git("add", "gone.py", cwd=tmp_path)
    (tmp_path / "gone.py").unlink()
    assert lambda_build.project_files(tmp_path) == []


def package_zip(path, extra: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("handler.py", "zappa_settings.py", "manage.py",
                     "staticfiles/staticfiles.json", "django/__pycache__/x.cpython-313.pyc",
                     "certifi/cacert.pem"):  # fmt: skip
            body = b"-----BEGIN CERTIFICATE-----\n" if name.endswith(".pem") else b""
            archive.writestr(name, body)
        for name, body in extra.items():
            archive.writestr(name, body)
    return path


def test_a_package_without_secret_looking_files_passes(tmp_path):
    lambda_build.check_package(package_zip(tmp_path / "ok.zip", {"cms/settings/base.py": b""}))


def test_the_package_check_refuses_secret_looking_files(tmp_path):
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n"
    planted = {
        ".env": b"SECRET_KEY=x",
        "cms/.env.production": b"x",
        "secrets.json": b"{}",
        "deploy/id_ed25519": key,
        "deploy/site.key": b"x",
        "certs/server.pem": b"-----BEGIN RSA PRIVATE KEY-----\n",
        "docs/notes.txt": b"keep this: " + key,
        "db.sqlite3": b"SQLite format 3\0",
        ".aws/credentials": b"[default]\naws_secret_access_key = x\n",
    }
    with pytest.raises(lambda_build.BuildError) as refused:
        lambda_build.check_package(package_zip(tmp_path / "bad.zip", planted))
    message = str(refused.value)
    assert "secret-looking files inside" in message
    assert [name for name in planted if name not in message] == []
    assert "cacert.pem" not in message  # certificates alone are not secrets


def test_the_build_starts_production_settings_with_throwaway_keys_that_pass_its_checks():
    first, second = lambda_build.build_env(), lambda_build.build_env()
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    assert first["ORIGIN_VERIFY_SECRETS"] != second["ORIGIN_VERIFY_SECRETS"]
    result = run("import django; django.setup(); print('ok')", "cms.settings.production", **first)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("stage", ["dev", "staging", "production", "emulator"])
def test_the_stack_outputs_become_the_deployed_stages_settings(stage):
    config = stage_settings(stage)
    outputs = stack_outputs(stage)
    deployed = lambda_build.stage_settings_from_outputs(stage, config, outputs)
    # The stack owns the role and its policy: Zappa uses it and manages none.
    assert (deployed["role_arn"], deployed["manage_roles"]) == (outputs["FunctionRoleArn"], False)
    assert deployed["vpc_config"] == {
        "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "SecurityGroupIds": [outputs["FunctionSecurityGroupId"]],
    }
    assert deployed["dead_letter_arn"] == outputs["DeadLetterQueueArn"]
    site = outputs["SiteDomain"]
    assert deployed["aws_environment_variables"] == {
        **config["aws_environment_variables"],  # SITE_NAME, LOG_LEVEL
        "MEDIA_BUCKET": outputs["MediaBucket"],
        "MEDIA_DOMAIN": site,
        "ALLOWED_HOSTS": site,
        "SITE_URL": f"https://{site}",
        "CSRF_TRUSTED_ORIGINS": f"https://{site}",
        "CDN_BACKEND": "cms.cdn.CloudFrontBackend",
        "CLOUDFRONT_DISTRIBUTION_ID": outputs["DistributionId"],
        "DJANGO_SECRET_ARN": outputs["DjangoSecretArn"],
        "ORIGIN_VERIFY_SECRET_ARN": outputs["OriginVerifySecretArn"],
        "DATABASE_SECRET_ARN": outputs["DatabaseSecretArn"],
        "DATABASE_HOST": outputs["DatabaseHost"],
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": outputs["DatabaseName"],
        "PUBLISHING_TICK_MARKER": "s3",
        "STAGE": stage,  # every log line and metric names it (cms.logs)
        # Aurora pauses only with nothing connected: its stages close after each request.
        **({"CONN_MAX_AGE": "0"} if stage != "production" else {}),
        # ... and wait for a paused cluster to resume (docs/database.md).
        **({"DATABASE_CONNECT_TIMEOUT": "35"} if stage != "production" else {}),
    }
    assert deployed["s3_bucket"] == outputs["DeploymentBucket"]
    assert lambda_build.requires_cloudfront(deployed)
    # Everything else is the committed stage's, untouched.
    same = set(config) - {"events", "aws_environment_variables", "manage_roles", "s3_bucket"}
    assert {k: deployed[k] for k in same} == {k: config[k] for k in same}
    assert config["events"][1]["event_source"]["arn"] == "arn:aws:s3:::${MediaBucket}"


def test_a_purge_function_output_reaches_the_function_when_the_stack_has_one():
    outputs = {**stack_outputs("staging"), "PurgeFunctionName": "lambda-cms-staging-purge"}
    deployed = lambda_build.stage_settings_from_outputs("staging", stage_settings("staging"),
                                                        outputs)  # fmt: skip
    assert (
        deployed["aws_environment_variables"]["CDN_PURGE_FUNCTION"] == outputs["PurgeFunctionName"]
    )


def test_a_stack_without_an_output_the_deploy_needs_says_to_run_make_infra():
    outputs = stack_outputs("staging")
    del outputs["DeadLetterQueueArn"], outputs["SubnetIds"]
    with pytest.raises(lambda_build.BuildError) as refused:
        lambda_build.stage_settings_from_outputs("staging", stage_settings("staging"), outputs)
    assert str(refused.value) == (
        "The staging stack has no output SubnetIds, DeadLetterQueueArn: run make infra "
        "STAGE=staging to bring the stack up to date"
    )


def test_another_stages_outputs_are_refused():
    with pytest.raises(lambda_build.BuildError, match="'production'"):
        lambda_build.stage_settings_from_outputs(
            "staging", stage_settings("staging"), stack_outputs("production")
        )


def test_a_committed_variable_that_the_stack_sets_differently_stops_the_deploy():
    config = stage_settings("staging")
    config["aws_environment_variables"] = {
        **config["aws_environment_variables"],
        "MEDIA_BUCKET": "someone-elses-bucket",
        "CDN_BACKEND": "cms.cdn.RecordingBackend",
    }
    with pytest.raises(lambda_build.BuildError, match="sets CDN_BACKEND, MEDIA_BUCKET for staging"):
        lambda_build.stage_settings_from_outputs("staging", config, stack_outputs("staging"))


def test_an_event_placeholder_naming_no_output_stops_the_deploy():
    config = stage_settings("staging")
    config["events"] = [
        {"function": "sitecontent.events.media_uploaded",
         "event_source": {"arn": "arn:aws:s3:::${MediaBuckett}", "events": ["s3:ObjectCreated:*"]}}
    ]  # fmt: skip
    with pytest.raises(lambda_build.BuildError, match=r"MediaBuckett.*names no output"):
        lambda_build.stage_settings_from_outputs("staging", config, stack_outputs("staging"))


def test_infra_outputs_supplies_only_what_the_stack_lacks(tmp_path, monkeypatch, capsys):
    # One rule, infra.deploy's, for make infra outputs and make deploy alike.
    from infra import deploy

    stack = stack_outputs("emulator")
    lacking = {k: stack.pop(k) for k in ("DistributionId", "DistributionDomain", "SiteDomain")}
    supplied = tmp_path / "outputs.json"
    supplied.write_text(json.dumps({**lacking, "MediaBucket": stack["MediaBucket"]}))
    monkeypatch.setenv("INFRA_OUTPUTS", str(supplied))
    merged = deploy.merge_supplied("emulator", stack, deploy.supplied_outputs())
    assert merged == {**stack, **lacking}
    assert "DistributionDomain, DistributionId, SiteDomain" in capsys.readouterr().err

    # Never over what the stack says: the file is a rehearsal aid, not an override.
    supplied.write_text(json.dumps({**lacking, "MediaBucket": "another-bucket"}))
    with pytest.raises(deploy.DeployError, match="gives MediaBucket, which the emulator"):
        deploy.merge_supplied("emulator", stack, deploy.supplied_outputs())

    supplied.write_text('["DistributionId"]')
    with pytest.raises(deploy.DeployError, match="must be a JSON object"):
        deploy.supplied_outputs()
    monkeypatch.delenv("INFRA_OUTPUTS")
    assert deploy.supplied_outputs() == {}


def test_a_stage_without_a_stack_says_to_run_make_infra_first(monkeypatch):
    monkeypatch.setattr(
        lambda_build, "infra_call", lambda script, *args, capture, env=None: '{"outputs": null}\n'
    )
    with pytest.raises(lambda_build.BuildError) as refused:
        lambda_build.stage_outputs("staging")
    assert "run make infra STAGE=staging first" in str(refused.value)


@pytest.fixture
def refusing_origin():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(403)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_refused_smoke_request_to_a_cloudfront_stage_says_to_use_the_site_url(
    refusing_origin,
):
    with pytest.raises(lambda_build.BuildError, match="site URL"):
        lambda_build.smoke(refusing_origin, stage="production", through_cloudfront=True)
    with pytest.raises(lambda_build.BuildError, match=r"answered 403$"):
        lambda_build.smoke(refusing_origin, stage="dev", through_cloudfront=False)


def test_zappa_can_load_the_zip_callback_from_its_file_alone(tmp_path):
    """Zappa loads the callback's file as a top-level module, without the project on
    sys.path (zappa/cli.py, ZappaCLI.callback)."""
    load = (
        "import pkgutil, sys; "
        "loader = pkgutil.get_importer(sys.argv[1]).find_spec('lambda_build').loader; "
        "print(callable(loader.load_module('lambda_build').add_bytecode))"
    )
    result = subprocess.run(
        [sys.executable, "-c", load, str(ROOT / "cms")],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_every_output_the_deploy_reads_is_one_the_stack_writes():
    """infra.config.OUTPUT_KEYS is the stack's list (the template writes each); the deploy
    reads a subset of it, by name."""
    from infra import config

    read = {*lambda_build.REQUIRED_OUTPUTS, *lambda_build.OUTPUT_VARIABLES.values(),
            *lambda_build.OPTIONAL_OUTPUT_VARIABLES.values()}  # fmt: skip
    assert read <= set(config.OUTPUT_KEYS)
    placeholders = {
        name
        for event in stage_settings("dev")["events"]
        for name in lambda_build.PLACEHOLDER.findall(event.get("event_source", {}).get("arn", ""))
    }
    assert placeholders == {"MediaBucket", "DeadLetterQueueArn"}
    assert placeholders <= set(config.OUTPUT_KEYS)


@pytest.mark.parametrize("has_stack", [True, False])
def test_the_build_copy_for_other_zappa_commands_names_real_event_sources(
    tmp_path, monkeypatch, has_stack
):
    """make destroy's zappa undeploy reads the build copy: the stage as deployed when the
    stack is there, else without the event sources it cannot name (Zappa would split the
    placeholder as an ARN and fail)."""
    monkeypatch.setattr(lambda_build, "SRC", tmp_path)
    committed = (ROOT / "zappa_settings.json").read_text()
    monkeypatch.setattr(
        lambda_build, "copy_sources",
        lambda: (tmp_path / "zappa_settings.json").write_text(committed),
    )  # fmt: skip

    def outputs(stage):
        if not has_stack:
            raise lambda_build.BuildError(f"{stage} has no infrastructure stack")
        return stack_outputs(stage)

    monkeypatch.setattr(lambda_build, "stage_outputs", outputs)
    lambda_build.write_build_settings("staging")
    written = json.loads((tmp_path / "zappa_settings.json").read_text())["staging"]
    sources = [e["event_source"]["arn"] for e in written["events"] if "event_source" in e]
    if has_stack:
        assert sources == [
            f"arn:aws:s3:::{stack_outputs('staging')['MediaBucket']}",
            stack_outputs("staging")["DeadLetterQueueArn"],
        ]
        assert written["role_arn"] == stack_outputs("staging")["FunctionRoleArn"]
    else:
        assert sources == []
        assert [e["function"] for e in written["events"]] == ["sitecontent.events.publishing_tick"]


def test_a_stages_mail_sender_becomes_the_functions_default_from_email(monkeypatch):
    from dataclasses import replace

    from infra import config as infra_config

    load = infra_config.load
    monkeypatch.setattr(
        lambda_build.infra_config,
        "load",
        lambda stage, **kw: replace(load(stage, **kw), mail_from="newsroom@example.com"),
    )
    deployed = lambda_build.stage_settings_from_outputs(
        "staging", stage_settings("staging"), stack_outputs("staging")
    )
    assert deployed["aws_environment_variables"]["DEFAULT_FROM_EMAIL"] == "newsroom@example.com"
    # Without one (the checked-in stages) the variable is not set at all.
    monkeypatch.setattr(lambda_build.infra_config, "load", load)
    deployed = lambda_build.stage_settings_from_outputs(
        "staging", stage_settings("staging"), stack_outputs("staging")
    )
    assert "DEFAULT_FROM_EMAIL" not in deployed["aws_environment_variables"]


def test_metadata_keeps_its_headers_and_loses_the_readme(tmp_path):
    """The package's METADATA files keep what importlib.metadata reads (django-ses takes
    its version from it at import) and lose the README body (size; a quoted key)."""
    import importlib.metadata

    info = tmp_path / "demo-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: demo\nVersion: 1.2.3\nRequires-Dist: django\n\n"
        "# Demo\n\n-----BEGIN RSA PRIVATE KEY-----\nexample\n-----END RSA PRIVATE KEY-----\n"
    )
    lambda_build.strip_metadata_descriptions(tmp_path)
    text = (info / "METADATA").read_text()
    assert "PRIVATE KEY" not in text
    assert "# Demo" not in text
    distribution = importlib.metadata.PathDistribution(info)
    assert distribution.version == "1.2.3"
    assert distribution.requires == ["django"]
