"""The CI deploy: the workflows (.github/workflows) and the account's CI stack
(infra/ci.py) they assume roles from.

The stack is data a test can walk: ``audit`` names every way a role could be wider than
its job (an action or resource wildcard AWS does not require, a resource of another
stage, a trust without the repository's ``sub``, a role made without the boundary), and
the tests prove it finds each on a widened copy, not only that the real template passes.
The workflows are checked with actionlint (the real files, and a broken copy that must
fail), against the Makefile's targets, and against the roles' trust: each job's trigger
is the one its role trusts. ``ci-apply`` runs against the moto server over HTTP."""

import copy
import dataclasses
import fnmatch
import hashlib
import json
import re
import shutil
import subprocess

import pytest
import yaml

from cms import iam_policy
from infra import ci, config, deploy, template
from tests.aws_fixtures import aws  # noqa: F401 (fixture)
from tests.infra import moto_shims

ROOT = config.ROOT
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"
REPOSITORY = "example-org/lambda-cms"
ACCOUNT = "123456789012"
PROJECT = ci.project()
BRANCH_STAGE = "pr-123"
# Where AWS picks the id and the resource takes neither a name nor a tag in IAM
# (docs/ci.md says what that allows): CloudFront's policies and origin access controls,
# and AWS's own default database parameter and option groups.
AWS_CHOSEN_IDS = {
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:cache-policy/*",
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:origin-request-policy/*",
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:response-headers-policy/*",
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:origin-access-control/*",
    "arn:${AWS::Partition}:rds:eu-west-1:${AWS::AccountId}:cluster-pg:default.*",
    "arn:${AWS::Partition}:rds:eu-west-1:${AWS::AccountId}:pg:default.*",
    "arn:${AWS::Partition}:rds:eu-west-1:${AWS::AccountId}:og:default:*",
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/rds.amazonaws.com/*",
    # A purge refills a cache; the function's own role names its distribution.
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*",
    # Lambda names the function's network interfaces.
    "arn:${AWS::Partition}:ec2:eu-west-1:${AWS::AccountId}:network-interface/*",
}
# Conditions that tie a wildcard resource to the stage: its tag, its function, a service.
TYING_CONDITIONS = (
    "aws:ResourceTag/stage",
    "aws:RequestTag/stage",
    "lambda:FunctionArn",
    "iam:AWSServiceName",
    "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn",
    "aws:RequestTag/aws:rds:primaryDBClusterArn",
)


def render() -> dict:
    return json.loads(ci.build(REPOSITORY).to_json())


BODY = render()


def text(value) -> str:
    """A resource as written: the Fn::Sub string, or the plain one."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"]
    if isinstance(value, dict) and "Ref" in value:
        return f"${{{value['Ref']}}}"
    return value


def of_type(body, kind) -> dict:
    return {k: r for k, r in body["Resources"].items() if r["Type"] == kind}


def statements_of(body, logical) -> list[dict]:
    """Every statement of the managed policies attached to role ``logical``."""
    found = []
    for policy in of_type(body, "AWS::IAM::ManagedPolicy").values():
        if {"Ref": logical} in policy["Properties"].get("Roles", []):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def expected_roles() -> dict[str, tuple[str, str]]:
    """Role name: (the stage names it may touch, the trigger it trusts)."""
    roles = {
        ci.role_name(PROJECT, stage): (stage, trigger) for stage, trigger in ci.TRIGGERS.items()
    }
    roles[ci.role_name(PROJECT, "branches")] = (f"{ci.BRANCH_PREFIX}*", ci.BRANCH_TRIGGER)
    return roles


def hashed(stage: str) -> str:
    return hashlib.sha1(f"{PROJECT}-{stage}".encode()).hexdigest()[:16]  # noqa: S324 (Zappa's)


def audit(body, repository=REPOSITORY) -> list[str]:
    """Every way a CI role is wider than its job; [] when there is none."""
    problems = []
    expected = expected_roles()
    boundary = ci.boundary_arn(PROJECT)
    roles = of_type(body, "AWS::IAM::Role")
    names = {r["Properties"]["RoleName"]: logical for logical, r in roles.items()}
    if set(names) != set(expected):
        problems.append(f"roles {sorted(names)}, expected {sorted(expected)}")
    other_stages = set(config.stage_list())
    for name, logical in names.items():
        if name not in expected:
            continue
        scope, trigger = expected[name]
        properties = roles[logical]["Properties"]
        # The trust: this repository's runs for this trigger, tokens meant for STS.
        [trust] = properties["AssumeRolePolicyDocument"]["Statement"]
        federated = text(trust.get("Principal", {}).get("Federated"))
        if not str(federated).endswith(f":oidc-provider/{ci.OIDC_HOST}"):
            problems.append(f"{name}: trusts {federated!r}, not GitHub's OIDC provider")
        if trust.get("Action") != "sts:AssumeRoleWithWebIdentity":
            problems.append(f"{name}: trust action {trust.get('Action')!r}")
        condition = trust.get("Condition", {})
        if set(condition) != {"StringEquals"}:
            problems.append(f"{name}: trust conditions {sorted(condition)} (StringEquals only)")
        equals = condition.get("StringEquals", {})
        if equals.get(f"{ci.OIDC_HOST}:aud") != ci.AUDIENCE:
            problems.append(f"{name}: trust has no aud condition for STS")
        if equals.get(f"{ci.OIDC_HOST}:sub") != f"repo:{repository}:{trigger}":
            problems.append(f"{name}: trust sub {equals.get(f'{ci.OIDC_HOST}:sub')!r}")
        if properties.get("ManagedPolicyArns") or properties.get("Policies"):
            problems.append(f"{name}: policies beside the stack's managed ones")
        for statement in statements_of(body, logical):
            sid = f"{name}/{statement.get('Sid')}"
            if statement["Effect"] == "Deny":
                continue
            actions = listed(statement["Action"])
            resources = [text(r) for r in listed(statement["Resource"])]
            keys = json.dumps(statement.get("Condition", {}))
            if wild := [a for a in actions if "*" in a or "?" in a]:
                problems.append(f"{sid}: wildcard action(s) {wild}")
            if "*" in resources and (wider := set(actions) - ci.AWS_REQUIRES_ANY_RESOURCE):
                problems.append(f'{sid}: "*" for {sorted(wider)}, which take narrower ones')
            for resource in resources:
                if resource == "*":
                    continue
                stages = re.findall(rf"[:/]{re.escape(PROJECT)}[-/]([a-z0-9*-]+)", resource)
                for stage in stages:
                    if not (stage == scope or stage.startswith((f"{scope}-", f"{scope}/"))
                            or fnmatch.fnmatch(stage, f"{scope}*")):  # fmt: skip
                        problems.append(f"{sid}: {resource} is not {scope}'s")
                    if scope.endswith("*") and any(stage.startswith(s) for s in other_stages):
                        problems.append(f"{sid}: {resource} reaches a fixed stage")
                tied = any(key in keys for key in TYING_CONDITIONS)
                if not scope.endswith("*") and resource.endswith(f"rule/{hashed(scope)}*"):
                    continue  # Zappa's name for a rule whose full name is too long
                if "*" in resource and not stages and not tied and resource not in AWS_CHOSEN_IDS:
                    problems.append(f"{sid}: {resource} is a wildcard tied to no stage")
            if "iam:PassRole" in actions:
                services = statement.get("Condition", {}).get("StringEquals", {})
                if "iam:PassedToService" not in services:
                    problems.append(f"{sid}: iam:PassRole to any service")
            makes = {"iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary",
                     "iam:AttachRolePolicy"} & set(actions)  # fmt: skip
            if makes:
                wanted = statement.get("Condition", {}).get("StringEquals", {})
                if text(wanted.get("iam:PermissionsBoundary")) != boundary:
                    problems.append(f"{sid}: {sorted(makes)} without the permissions boundary")
    return problems


# --- the stack --------------------------------------------------------------------------


def test_the_ci_stack_has_no_role_wider_than_its_job():
    assert audit(BODY) == []
    # One role per long-lived stage and one for branch stages, each with its policies.
    roles = of_type(BODY, "AWS::IAM::Role")
    assert len(roles) == len(ci.TRIGGERS) + 1
    assert all(statements_of(BODY, logical) for logical in roles)


def _role(body, who) -> str:
    name = ci.role_name(PROJECT, who)
    [logical] = [k for k, r in of_type(body, "AWS::IAM::Role").items()
                 if r["Properties"]["RoleName"] == name]  # fmt: skip
    return logical


def _statement(body, who, sid) -> dict:
    [found] = [s for s in statements_of(body, _role(body, who)) if s["Sid"] == sid]
    return found


def _trust(body, who) -> dict:
    return of_type(body, "AWS::IAM::Role")[_role(body, who)]["Properties"][
        "AssumeRolePolicyDocument"
    ]["Statement"][0]


def widen_action(body):
    _statement(body, "staging", "TheStagesFunction")["Action"].append("lambda:*")


def any_action(body):
    _statement(body, "production", "TheStagesAlarms")["Action"] = "*"


def any_resource(body):
    _statement(body, "staging", "TheStagesFunction")["Resource"] = "*"


def another_stages_function(body):
    statement = _statement(body, "staging", "TheStagesFunction")
    statement["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:eu-west-1:${AWS::AccountId}:function:"
                    f"{PROJECT}-production"}
    )  # fmt: skip


def branch_role_reaches_staging(body):
    statement = _statement(body, "branches", "BranchQueues")
    statement["Resource"].append(
        {
            "Fn::Sub": "arn:${AWS::Partition}:sqs:eu-west-1:${AWS::AccountId}:"
            f"{PROJECT}-staging-*"
        }
    )


def untied_wildcard(body):
    _statement(body, "branches", "ChangeTaggedNetwork").pop("Condition")


def no_sub(body):
    _trust(body, "staging")["Condition"]["StringEquals"].pop(f"{ci.OIDC_HOST}:sub")


def sub_wildcard(body):
    trust = _trust(body, "production")
    sub = trust["Condition"]["StringEquals"].pop(f"{ci.OIDC_HOST}:sub")
    trust["Condition"]["StringLike"] = {
        f"{ci.OIDC_HOST}:sub": sub.replace("environment:production", "*")
    }


def other_repository(body):
    trust = _trust(body, "branches")
    trust["Condition"]["StringEquals"][f"{ci.OIDC_HOST}:sub"] = "repo:someone/else:pull_request"


def no_audience(body):
    _trust(body, "branches")["Condition"]["StringEquals"].pop(f"{ci.OIDC_HOST}:aud")


def roles_without_boundary(body):
    _statement(body, "branches", "BranchRolesWithTheBoundary").pop("Condition")


def pass_role_anywhere(body):
    _statement(body, "staging", "PassTheFunctionsRole").pop("Condition")


def extra_policy(body):
    role = of_type(body, "AWS::IAM::Role")[_role(body, "staging")]
    role["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]


@pytest.mark.parametrize(
    "widen",
    [widen_action, any_action, any_resource, another_stages_function,
     branch_role_reaches_staging, untied_wildcard, no_sub, sub_wildcard, other_repository,
     no_audience, roles_without_boundary, pass_role_anywhere, extra_policy],
)  # fmt: skip
def test_the_audit_finds_a_widened_role(widen):
    body = copy.deepcopy(BODY)
    widen(body)
    assert audit(body) != []


def test_each_role_trusts_only_its_trigger_of_this_repository():
    subs = {
        who: _trust(BODY, who)["Condition"]["StringEquals"][f"{ci.OIDC_HOST}:sub"]
        for who in [*ci.TRIGGERS, "branches"]
    }
    assert subs == {
        "staging": f"repo:{REPOSITORY}:ref:refs/heads/main",
        "production": f"repo:{REPOSITORY}:environment:production",
        "branches": f"repo:{REPOSITORY}:pull_request",
    }
    for who in subs:
        assert _trust(BODY, who)["Condition"]["StringEquals"][f"{ci.OIDC_HOST}:aud"] == (
            "sts.amazonaws.com"
        )


def test_the_provider_is_github_for_sts_and_made_only_when_the_account_has_none():
    [provider] = of_type(BODY, "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert provider["Condition"] == "MakesProvider"
    assert BODY["Parameters"]["CreateOidcProvider"]["AllowedValues"] == ["true", "false"]


def test_every_policy_fits_iams_limit():
    for policy in of_type(BODY, "AWS::IAM::ManagedPolicy").values():
        document = json.dumps(policy["Properties"]["PolicyDocument"])
        assert len(re.sub(r"\s", "", document)) <= ci.MAX_POLICY_CHARACTERS


def arn(service: str, rest: str, region="eu-west-1") -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"


def stage_arns(stage: str) -> list[str]:
    """The ARNs of ``stage``'s resources CI acts on (moto's account id)."""
    names = config.Names(PROJECT, stage)
    return [
        arn("lambda", f"function:{names.function}"),
        arn("lambda", f"function:{names.function}:live"),
        arn("cloudformation", f"stack/{names.stack}/0b2c4e6a-1234"),
        arn("cloudformation", f"stack/{names.function}/0b2c4e6a-1234"),
        f"arn:aws:s3:::{names.deployment_bucket(ACCOUNT)}",
        f"arn:aws:s3:::{names.deployment_bucket(ACCOUNT)}/lambda-cms.zip",
        f"arn:aws:s3:::{names.media_bucket(ACCOUNT)}",
        arn("cloudwatch", f"alarm:{names.alarm('errors')}"),
        f"arn:aws:iam::{ACCOUNT}:role/{names.role}",
        arn("events", f"rule/{names.tick_rule}"),
    ]


def resources_of(document_statements) -> list[str]:
    return [
        text(r).replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Partition}", "aws")
        for s in document_statements
        if s["Effect"] == "Allow"
        for r in listed(s["Resource"])
        if r != "*"
    ]


def matches(resources: list[str], target: str) -> bool:
    return any(fnmatch.fnmatchcase(target, pattern) for pattern in resources)


@pytest.mark.parametrize("who", [*ci.TRIGGERS, "branches"])
def test_each_role_reaches_its_stages_names_and_no_other_stages(who):
    resources = resources_of(statements_of(BODY, _role(BODY, who)))
    own = BRANCH_STAGE if who == "branches" else who
    for target in stage_arns(own):
        assert matches(resources, target), f"{who} cannot reach {target}"
    for other in config.stage_list():
        if other == own:
            continue
        for target in stage_arns(other):
            assert not matches(resources, target), f"{who} reaches {other}'s {target}"


def test_the_branch_role_only_makes_roles_with_the_boundary_and_may_not_lift_it():
    made = _statement(BODY, "branches", "BranchRolesWithTheBoundary")
    assert set(made["Action"]) >= {"iam:CreateRole", "iam:PutRolePolicy"}
    assert made["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == {
        "Fn::Sub": ci.boundary_arn(PROJECT)
    }
    assert [text(r) for r in made["Resource"]] == [
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{PROJECT}-pr-*"
    ]
    kept = _statement(BODY, "branches", "KeepTheBoundary")
    assert kept["Effect"] == "Deny"
    assert "iam:DeleteRolePermissionsBoundary" in kept["Action"]
    assert {"Fn::Sub": ci.boundary_arn(PROJECT)} in kept["Resource"]
    # No other statement of any role lets it make, change or attach roles' policies.
    for who in [*ci.TRIGGERS, "branches"]:
        for statement in statements_of(BODY, _role(BODY, who)):
            if statement["Sid"] in ("BranchRolesWithTheBoundary", "KeepTheBoundary"):
                continue
            assert not {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                        "iam:PutRolePermissionsBoundary"} & set(statement["Action"])  # fmt: skip


def test_no_ci_role_may_change_the_ci_stack_or_its_roles():
    for who in [*ci.TRIGGERS, "branches"]:
        for resource in resources_of(statements_of(BODY, _role(BODY, who))):
            assert ci.stack_name(PROJECT) not in resource
            assert f"role/ci-{PROJECT}" not in resource
            assert f"policy/ci-{PROJECT}" not in resource


def test_long_lived_stages_roles_deploy_code_but_change_no_infrastructure():
    """make infra (with its preview of data-losing changes) is for people there."""
    for who in ci.TRIGGERS:
        actions = {a for s in statements_of(BODY, _role(BODY, who)) for a in listed(s["Action"])}
        assert {"lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:UpdateAlias",
                "lambda:InvokeFunction", "cloudwatch:DescribeAlarms",
                "cloudformation:DescribeStacks", "iam:PassRole"} <= actions  # fmt: skip
        changes = {a for a in actions if not a.split(":")[1].startswith(("Describe", "List"))}
        assert not {a for a in changes if a.split(":")[0] in ("rds", "ec2", "sqs", "sns")}
        # CloudFront and secrets: only the first deploy's ApiDomain update of the stack.
        assert {a for a in changes if a.startswith("cloudfront:")} == {
            "cloudfront:GetDistribution", "cloudfront:GetDistributionConfig",
            "cloudfront:UpdateDistribution",
        }  # fmt: skip
        assert {a for a in changes if a.startswith("secretsmanager:")} == {
            "secretsmanager:GetSecretValue"
        }
        [secret] = _statement(BODY, who, "TheStagesOriginHeader")["Resource"]
        assert text(secret).endswith(f":secret:{PROJECT}/{who}/origin-verify-*")
        assert "cloudformation:DeleteStack" not in actions
        # Old versions only: never the function itself.
        [delete] = [s for s in statements_of(BODY, _role(BODY, who))
                    if "lambda:DeleteFunction" in s["Action"]]  # fmt: skip
        assert [text(r) for r in delete["Resource"]] == [
            f"arn:${{AWS::Partition}}:lambda:eu-west-1:${{AWS::AccountId}}:function:"
            f"{PROJECT}-{who}:*"
        ]


def test_a_stage_named_like_a_branch_stage_is_refused(monkeypatch):
    monkeypatch.setattr(config, "stage_list", lambda *a: ["dev", "staging", "production", "pr-x"])
    with pytest.raises(ci.CiError, match=r"pr-x.*branch stages"):
        ci.build(REPOSITORY)


@pytest.mark.parametrize("repository", [None, "", "no-slash", "a/b/c", "owner/na me"])
def test_the_repository_must_be_owner_slash_name(repository, tmp_path, monkeypatch):
    path = tmp_path / "ci.json"
    path.write_text(json.dumps({"repository": repository}))
    monkeypatch.setattr(ci, "CI_FILE", path)
    with pytest.raises(ci.CiError, match="OWNER/NAME"):
        ci.read_repository()


def test_ci_template_writes_the_yaml_without_aws(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ci, "OUTPUT_DIR", tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    assert ci.main(["ci-template", "--repository", REPOSITORY]) == 0
    written = (tmp_path / "ci.yaml").read_text()
    assert f"repo:{REPOSITORY}:pull_request" in written
    assert str(tmp_path / "ci.yaml") in capsys.readouterr().out


def test_ci_template_without_a_repository_says_where_to_set_it(monkeypatch, capsys):
    monkeypatch.setattr(ci, "CI_FILE", ROOT / "infra" / "ci.json")
    if json.loads(ci.CI_FILE.read_text()).get("repository"):
        pytest.skip("infra/ci.json names the repository")
    assert ci.main(["ci-template"]) == 1
    assert 'Set "repository": "OWNER/NAME" in infra/ci.json' in capsys.readouterr().err


# --- branch stages' roles and the boundary ----------------------------------------------


@pytest.fixture
def branch_stage(monkeypatch):
    """pr-123 as a branch stage: infra.config's own when it knows branch stages (helper
    *branch*), else preview's settings under that name."""
    try:
        return config.load(BRANCH_STAGE)
    except config.ConfigError:
        original = iam_policy.stage_settings

        def stage_settings(stage, *args):
            return original(ci.branch_template() if ci.is_branch_stage(stage) else stage, *args)

        monkeypatch.setattr(template.iam_policy, "stage_settings", stage_settings)
        return dataclasses.replace(config.load(ci.branch_template()), name=BRANCH_STAGE)


def _boundary_actions() -> set[str]:
    [boundary] = [p for p in of_type(BODY, "AWS::IAM::ManagedPolicy").values()
                  if p["Properties"]["ManagedPolicyName"] == ci.boundary_name(PROJECT)]  # fmt: skip
    assert "Roles" not in boundary["Properties"]  # a cap, attached to no role
    return {a for s in boundary["Properties"]["PolicyDocument"]["Statement"]
            for a in listed(s["Action"])}  # fmt: skip


def test_a_branch_stages_roles_carry_the_boundary_and_stay_inside_it(branch_stage):
    body = json.loads(template.build(branch_stage).to_json())
    roles = of_type(body, "AWS::IAM::Role")
    assert roles
    allowed = _boundary_actions()
    for logical, role in roles.items():
        properties = role["Properties"]
        assert properties["PermissionsBoundary"] == {"Fn::Sub": ci.boundary_arn(PROJECT)}
        assert properties["RoleName"].startswith(f"{PROJECT}-{BRANCH_STAGE}")
        used = {a for p in properties.get("Policies", [])
                for s in p["PolicyDocument"]["Statement"] for a in listed(s["Action"])}  # fmt: skip
        # What a branch stage's role uses is what the boundary lets through.
        assert used <= allowed, f"{logical}: {sorted(used - allowed)} outside the boundary"


@pytest.mark.parametrize("stage", config.stage_list())
def test_the_listed_stages_roles_have_no_boundary(stage):
    body = json.loads(template.build(config.load(stage)).to_json())
    for role in of_type(body, "AWS::IAM::Role").values():
        assert "PermissionsBoundary" not in role["Properties"]


def test_the_boundary_reaches_only_branch_stages_names():
    [boundary] = [p for p in of_type(BODY, "AWS::IAM::ManagedPolicy").values()
                  if p["Properties"]["ManagedPolicyName"] == ci.boundary_name(PROJECT)]  # fmt: skip
    resources = resources_of(boundary["Properties"]["PolicyDocument"]["Statement"])

    def reached(stage):
        names = config.Names(PROJECT, stage)
        return [
            target
            for target in (
                arn("lambda", f"function:{names.function}"),
                arn("secretsmanager", f"secret:{names.django_secret}-AbCdEf"),
                f"arn:aws:s3:::{names.media_bucket(ACCOUNT)}/media/a.jpg",
                arn("sqs", names.dead_letter_queue),
                arn("logs", f"log-group:/aws/lambda/{names.function}:log-stream:x"),
            )
            if matches(resources, target)
        ]

    for stage in config.stage_list():
        assert reached(stage) == [], f"the boundary reaches {stage}'s resources"
    assert len(reached(BRANCH_STAGE)) == 5


# --- the workflows ----------------------------------------------------------------------


def workflows() -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def triggers(workflow) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare on: as True


def steps(job) -> list[dict]:
    return job.get("steps", [])


def aws_step(job) -> dict | None:
    found = [s for s in steps(job) if s.get("uses", "").startswith("aws-actions/configure")]
    return found[0] if found else None


def actionlint(cwd):
    return subprocess.run(
        [ACTIONLINT, "-no-color", "-shellcheck=", "-pyflakes="],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_actionlint_passes_on_the_workflows():
    assert workflows(), "no workflow under .github/workflows"
    result = actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_on_a_broken_copy(tmp_path):
    copy_dir = tmp_path / ".github" / "workflows"
    shutil.copytree(WORKFLOWS, copy_dir)
    deploy_file = copy_dir / "deploy.yml"
    body = deploy_file.read_text()
    assert "needs: test\n" in body
    assert "github.event.pull_request.number" in body
    # A job that needs one which does not exist, and a context property that does not.
    deploy_file.write_text(
        body.replace("needs: test\n", "needs: tests\n", 1).replace(
            "github.event.pull_request.number", "github.event.pull_requests.numbr", 1
        )
    )
    (tmp_path / ".git").mkdir()  # actionlint looks for the repository's root
    result = actionlint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert '"tests"' in result.stdout
    assert "deploy.yml" in result.stdout


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_every_make_target_the_workflows_call_exists():
    called = set()
    for workflow in workflows().values():
        for job in workflow["jobs"].values():
            for step in steps(job):
                for line in step.get("run", "").splitlines():
                    called |= set(re.findall(r"(?:^|[;&|]\s*)make\s+([a-z][a-z-]*)", line.strip()))
    assert {"test", "infra", "deploy", "destroy", "rollback", "ci-lint", "infra-lint"} <= called
    assert called <= makefile_targets(), sorted(called - makefile_targets())


def test_actions_are_pinned_to_commits_and_no_key_is_stored():
    for name, workflow in workflows().items():
        text_ = (WORKFLOWS / name).read_text()
        for line in re.findall(r"uses:\s*(\S+)", text_):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", line), f"{name}: {line} unpinned"
        assert "secrets." not in text_
        assert "aws-access-key-id" not in text_
        assert "aws-secret-access-key" not in text_
        assert "pull_request_target" not in text_  # would run a fork's code with our token
        assert workflow["permissions"] == {"contents": "read"}


def test_only_the_jobs_that_assume_a_role_may_ask_for_a_token():
    for workflow in workflows().values():
        for job_name, job in workflow["jobs"].items():
            permissions = job.get("permissions", {})
            if aws_step(job):
                assert permissions == {"contents": "read", "id-token": "write"}, job_name
                assert job["concurrency"]["group"].startswith("stage-"), job_name
                assert job["concurrency"]["cancel-in-progress"] is False, job_name
            else:
                assert "id-token" not in permissions, job_name


def role_of(job) -> str:
    arn = aws_step(job)["with"]["role-to-assume"]
    return arn.replace("${{ env.PROJECT }}", PROJECT).rsplit("/", 1)[-1]


def test_each_deploy_job_runs_only_on_the_trigger_its_role_trusts():
    workflow = workflows()["deploy.yml"]
    assert workflow["env"]["PROJECT"] == PROJECT
    on = triggers(workflow)
    assert on["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert "closed" in on["pull_request"]["types"]
    jobs = workflow["jobs"]
    assert {name: role_of(job) for name, job in jobs.items() if aws_step(job)} == {
        "staging": ci.role_name(PROJECT, "staging"),
        "preview": ci.role_name(PROJECT, "branches"),
        "preview-teardown": ci.role_name(PROJECT, "branches"),
        "production": ci.role_name(PROJECT, "production"),
    }
    # staging: pushes to main, no environment (its sub is ref:refs/heads/main).
    assert ci.TRIGGERS["staging"] == "ref:refs/heads/main"
    assert jobs["staging"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert "environment" not in jobs["staging"]
    # production: tags v*, in the environment its role trusts.
    assert ci.TRIGGERS["production"] == "environment:production"
    assert jobs["production"]["environment"] == "production"
    assert "startsWith(github.ref, 'refs/tags/v')" in jobs["production"]["if"]
    # pull requests: this repository's only, no environment (sub ...:pull_request).
    assert ci.BRANCH_TRIGGER == "pull_request"
    for name in ("preview", "preview-teardown"):
        assert "environment" not in jobs[name]
        assert (
            "github.event.pull_request.head.repo.full_name == github.repository"
            in (jobs[name]["if"])
        )
        assert jobs[name]["env"]["STAGE"] == "pr-${{ github.event.pull_request.number }}"
        assert (
            jobs[name]["concurrency"]["group"] == "stage-pr-${{ github.event.pull_request.number }}"
        )
    assert "action != 'closed'" in jobs["preview"]["if"]
    assert "action == 'closed'" in jobs["preview-teardown"]["if"]
    # Tests first, for every deploy; the teardown needs none.
    for name in ("staging", "preview", "production"):
        assert jobs[name]["needs"] == "test"
    runs = {name: [s.get("run", "") for s in steps(job)] for name, job in jobs.items()}
    assert "make deploy STAGE=staging" in runs["staging"]
    # The branch stage's stack from the pull request's own template, then the code.
    assert runs["preview"][-2:] == ['make infra STAGE="$STAGE"', 'make deploy STAGE="$STAGE"']
    assert 'make destroy STAGE="$STAGE" DELETE_DATA=1' in runs["preview-teardown"]
    assert "make deploy STAGE=production" in runs["production"]


def test_the_pull_request_stage_name_is_a_branch_stage():
    assert ci.is_branch_stage(BRANCH_STAGE)
    if hasattr(config, "branch_stage"):
        assert config.branch_stage("123") == BRANCH_STAGE
    for stage in config.stage_list():
        assert not ci.is_branch_stage(stage)


def test_the_rollback_workflow_uses_each_stages_own_role_and_trigger():
    jobs = workflows()["rollback.yml"]["jobs"]
    assert role_of(jobs["staging"]) == ci.role_name(PROJECT, "staging")
    assert "github.ref == 'refs/heads/main'" in jobs["staging"]["if"]
    assert "environment" not in jobs["staging"]
    assert role_of(jobs["production"]) == ci.role_name(PROJECT, "production")
    assert jobs["production"]["environment"] == "production"


# --- ci-apply against moto --------------------------------------------------------------


@pytest.fixture
def moto(aws, monkeypatch):  # noqa: F811
    moto_shims.install()  # UpdateTerminationProtection, which moto lacks
    monkeypatch.setattr(deploy, "POLL_SECONDS", 0)
    return aws


def _iam():
    return deploy.client("iam", "eu-west-1")


@pytest.mark.deploy
def test_ci_apply_makes_the_provider_and_roles_then_changes_nothing(moto, capsys):
    outputs = ci.apply(REPOSITORY)
    iam = _iam()
    for who, trigger in [*ci.TRIGGERS.items(), ("branches", ci.BRANCH_TRIGGER)]:
        role = iam.get_role(RoleName=ci.role_name(PROJECT, who))["Role"]
        trust = role["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        condition = trust["Statement"][0]["Condition"]["StringEquals"]
        assert condition[f"{ci.OIDC_HOST}:sub"] == f"repo:{REPOSITORY}:{trigger}"
        attached = iam.list_attached_role_policies(RoleName=role["RoleName"])
        assert attached["AttachedPolicies"]
        assert outputs[f"{_role(BODY, who)}Arn"] == role["Arn"]
    # Moto's CloudFormation makes no AWS::IAM::OIDCProvider (it warns and skips it): that
    # the stack makes one is what the parameter says; the provider's own properties are
    # checked on the template (test_the_provider_is_github_for_sts...).
    cf = deploy.client("cloudformation", "eu-west-1")
    stack = deploy.describe_stack(cf, ci.stack_name(PROJECT))
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "CreateOidcProvider": "true"
    }
    assert stack["EnableTerminationProtection"] is True
    said = capsys.readouterr().out
    assert f"AWS_ACCOUNT_ID={ACCOUNT}" in said
    assert "AWS_REGION=eu-west-1" in said

    ci.apply(REPOSITORY)
    assert "no changes" in capsys.readouterr().out


@pytest.mark.deploy
def test_ci_apply_reuses_the_accounts_provider(moto, capsys):
    iam = _iam()
    iam.create_open_id_connect_provider(
        Url=f"https://{ci.OIDC_HOST}", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )  # fmt: skip
    ci.apply(REPOSITORY)
    assert "has its provider already" in capsys.readouterr().out
    stack = deploy.describe_stack(deploy.client("cloudformation", "eu-west-1"),
                                  ci.stack_name(PROJECT))  # fmt: skip
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "CreateOidcProvider": "false"
    }
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    assert iam.get_role(RoleName=ci.role_name(PROJECT, "staging"))["Role"]


def test_ci_apply_without_credentials_stops_with_the_fix(moto, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert ci.main(["ci-apply", "--repository", REPOSITORY]) == 1
    err = capsys.readouterr().err
    assert "No AWS credentials found" in err
    assert "make infra-ci" in err
