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
"""


def install() -> None:
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
