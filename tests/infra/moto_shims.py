"""Emulator shims for the stage stacks' tests (moto 5.2.5), installed into the moto server
running in the test process. Each fills a gap where moto answers differently from AWS in a
way ``make infra`` / ``make destroy`` meet; none changes what the code under test sends.

- UpdateTerminationProtection: moto has no such action (HTTP 500), and ignores the flag
  on DeleteStack. AWS stores it (DescribeStacks EnableTerminationProtection) and refuses
  to delete a protected stack with a ValidationError; so does this shim.
- Outputs after ExecuteChangeSet: moto computes a stack's Outputs on CreateStack and
  UpdateStack only, so a stack made or changed through a change set reports none; AWS
  reports them. The shim recomputes them after the change set is applied, as UpdateStack
  does.
- UsePreviousValue for a parameter left at its default: moto remembers only the values
  passed, so UpdateStack fails with HTTP 500 (KeyError) for one that was not, although it
  lists it in DescribeStacks; AWS keeps the value. The shim reads it from the parameters
  the stack resolved.
- The result of a command run in a version: moto's Lambda without Docker runs no code and
  answers every invocation with a canned success. ``fail_command`` makes an invocation
  of a chosen function's versions (those after a given one) that runs a chosen management
  command answer as Lambda does when the command raised: a FunctionError with the error
  as payload and the log's tail. This stands in for the release's smoke test failing
  inside a new version, as the round trip's local server stands in for CloudFront.
- An event source mapping made for an alias keeps the alias's ARN on AWS (it follows the
  alias); moto records the ARN of the version the alias points at then. The shim keeps
  the alias's.
"""

import base64
import json

# (function name, command) -> (the last version that still succeeds, error message)
FAILING_COMMANDS: dict[tuple[str, str], tuple[int, str]] = {}


def install() -> None:
    _command_results()
    _mappings_keep_the_alias()
    _termination_protection()
    _outputs_after_change_sets()
    _previous_default_parameters()


def _outputs_after_change_sets() -> None:
    from moto.cloudformation.models import CloudFormationBackend

    if getattr(CloudFormationBackend, "_lambda_cms_outputs", False):
        return
    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            if stack.name == stack_name or stack.stack_id == stack_name or not stack_name:
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = execute_change_set
    CloudFormationBackend._lambda_cms_outputs = True


def _previous_default_parameters() -> None:
    from moto.cloudformation.models import CloudFormationBackend, Stack

    if getattr(CloudFormationBackend, "_lambda_cms_previous", False):
        return
    original = CloudFormationBackend._resolve_update_parameters

    def resolve(self, instance, incoming_params):
        if isinstance(instance, Stack):
            resolved = instance.stack_parameters
            for parameter in incoming_params:
                key = parameter["ParameterKey"]
                if parameter.get("UsePreviousValue") and key not in instance.parameters:
                    instance.parameters[key] = resolved.get(key, "")
        return original(self, instance, incoming_params)

    CloudFormationBackend._resolve_update_parameters = resolve
    CloudFormationBackend._lambda_cms_previous = True


def _termination_protection() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    if getattr(CloudFormationResponse, "_lambda_cms_termination_protection", False):
        return
    original_delete = CloudFormationResponse.delete_stack

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param(
            "EnableTerminationProtection", False
        )
        return ActionResult({"StackId": stack.stack_id})

    def delete_stack(self):
        name = self._get_param("StackName")
        try:
            stack = self.cloudformation_backend.get_stack(name)
        except ValidationError:
            stack = None
        if stack is not None and getattr(stack, "enable_termination_protection", False):
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection "
                "is enabled"
            )
        return original_delete(self)

    CloudFormationResponse.update_termination_protection = update_termination_protection
    CloudFormationResponse.delete_stack = delete_stack
    CloudFormationResponse._lambda_cms_termination_protection = True


def fail_command(function: str, command: str, *, after_version: int, message: str) -> None:
    """Invocations of ``function``'s versions above ``after_version`` running the management
    command ``command`` fail with ``message`` (until clear_failures)."""
    FAILING_COMMANDS[(function, command)] = (after_version, message)


def clear_failures() -> None:
    FAILING_COMMANDS.clear()


def _command_results() -> None:
    """(moto reads Invoke's qualifier from a lower-case "qualifier" parameter, so it
    always invokes $LATEST; the Qualifier boto3 sends is resolved here, as Lambda does.)"""
    from urllib.parse import unquote

    from moto.awslambda.responses import LambdaResponse

    if getattr(LambdaResponse, "_lambda_cms_results", False):
        return
    original = LambdaResponse.invoke

    def invoke(self):
        name = unquote(self.path.rsplit("/", 2)[-2])
        qualifier = (self.querystring.get("Qualifier") or [None])[0]
        fn = self.backend.get_function(name, qualifier)  # unknown: ResourceNotFound
        try:
            event = json.loads(self.body) if self.body else {}
        except ValueError:
            event = {}
        command = event.get("manage") if isinstance(event, dict) else None
        failing = FAILING_COMMANDS.get((fn.function_name, command))
        version = str(fn.version)
        if failing and version.isdigit() and int(version) > failing[0]:
            tail = f"START\n{failing[1]}\nEND\n"
            headers = {
                "content-type": "application/json",
                "x-amz-function-error": "Unhandled",
                "x-amz-executed-version": version,
                "x-amz-log-result": base64.b64encode(tail.encode()).decode(),
            }
            body = json.dumps({"errorMessage": failing[1], "errorType": "CommandError"})
            return 200, headers, body
        return original(self)

    LambdaResponse.invoke = invoke
    LambdaResponse._lambda_cms_results = True


def _mappings_keep_the_alias() -> None:
    """Emulator shim (moto 5.2.5): an event source mapping made (or updated) for an alias,
    ``…:function:NAME:live``, keeps that ARN on AWS (and follows the alias); moto records
    the ARN of the version the alias points at then."""
    from moto.awslambda.models import LambdaBackend

    if getattr(LambdaBackend, "_lambda_cms_mappings", False):
        return
    original_create = LambdaBackend.create_event_source_mapping
    original_update = LambdaBackend.update_event_source_mapping

    def alias_arn(self, name):
        qualifier = name.split(":function:")[-1].split(":")[1:] if ":function:" in name else (
            name.split(":")[1:]
        )  # fmt: skip
        if not qualifier or qualifier[0].isdigit() or qualifier[0] == "$LATEST":
            return None
        fn = self._lambdas.get_function_by_name_or_arn_with_qualifier(name)
        return f"{fn.function_arn.rsplit(':', 1)[0]}:{qualifier[0]}"

    def create(self, spec):
        esm = original_create(self, spec)
        if arn := alias_arn(self, spec["FunctionName"]):
            esm.function_arn = arn
        return esm

    def update(self, uuid, spec):
        esm = original_update(self, uuid, spec)
        arn = alias_arn(self, spec["FunctionName"]) if spec.get("FunctionName") else None
        if esm is not None and arn:
            esm.function_arn = arn
        return esm

    LambdaBackend.create_event_source_mapping = create
    LambdaBackend.update_event_source_mapping = update
    LambdaBackend._lambda_cms_mappings = True
