"""Everything around the function, as code: one CloudFormation stack per stage.

``make infra-template STAGE=…`` writes the stage's template to .build/infra/ (no AWS call);
``make infra STAGE=…`` previews a change set and applies it; ``make destroy STAGE=…``
removes the stage. Deploy-time only: never shipped to Lambda (zappa_settings.json
"exclude"), and never imported by the site.
"""
