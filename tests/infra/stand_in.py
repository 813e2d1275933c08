"""A small stage template made only of resource types moto's CloudFormation implements,
shaped like infra.template's (the same parameters, names, tags, deletion policies and
the outputs moto can produce), so that apply / destroy run end to end against moto.

infra.template's own template cannot be executed by moto 5.2.5: a resource property that
reads an attribute of a type moto does not implement (Fn::GetAtt Distribution.…) fails
ExecuteChangeSet ("Template error: instance of Fn::GetAtt references undefined
resource Distribution"). What the deploy does with a change set does not depend on which
resources it holds, so these tests use this one; the round trip of the real template is
the wiring test's.
"""

import json
from types import SimpleNamespace

from infra import config


def build(stage: config.Stage, *, bucket_versioning="Enabled", database_class="db.t4g.micro"):
    names = stage.names
    keep = "Retain" if stage.keep_data else "Delete"
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "ApiDomain": {"Type": "String", "Default": ""},
            "CertificateArn": {"Type": "String", "Default": ""},
            "HostedZoneId": {"Type": "String", "Default": ""},
        },
        "Resources": {
            "MediaBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": keep,
                "UpdateReplacePolicy": keep,
                "Properties": {
                    "BucketName": {"Fn::Sub": names.media_bucket_template},
                    "VersioningConfiguration": {"Status": bucket_versioning},
                },
            },
            "DatabaseInstance": {
                "Type": "AWS::RDS::DBInstance",
                # As infra.template's: a final snapshot keeps the data, and deletion
                # protection guards against deletions other than make destroy's.
                "DeletionPolicy": "Snapshot" if stage.keep_data else "Delete",
                "UpdateReplacePolicy": "Snapshot" if stage.keep_data else "Delete",
                "Properties": {
                    "DBInstanceIdentifier": names.database,
                    "DeletionProtection": stage.keep_data,
                    "DBInstanceClass": database_class,
                    "Engine": "postgres",
                    "AllocatedStorage": "20",
                    "MasterUsername": "cms",
                    "MasterUserPassword": "not-a-real-password-1",
                },
            },
            "DeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": names.dead_letter_queue},
            },
            "FunctionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": names.role,
                    "AssumeRolePolicyDocument": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "lambda.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ],
                        }
                    ),
                },
            },
        },
        "Outputs": {
            "Stage": {"Value": stage.name},
            "MediaBucket": {"Value": {"Ref": "MediaBucket"}},
            "DeadLetterQueueArn": {"Value": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}},
            "FunctionRoleArn": {"Value": {"Fn::GetAtt": ["FunctionRole", "Arn"]}},
            "ApiDomainSeen": {"Value": {"Ref": "ApiDomain"}},
        },
    }
    return template


def build_certificate(stage: config.Stage):
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"HostedZoneId": {"Type": "String", "Default": ""}},
        "Conditions": {"HasZone": {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedZoneId"}, ""]}]}},
        "Resources": {
            "Certificate": {
                "Type": "AWS::CertificateManager::Certificate",
                "Properties": {"DomainName": stage.domain, "ValidationMethod": "DNS"},
            }
        },
        "Outputs": {"CertificateArn": {"Value": {"Ref": "Certificate"}}},
    }


# The ARN the certificate would have (moto's CloudFormation makes no ACM certificate).
CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/0e6b7e3c-1c1f-4f59-9d55-6f0c2b1a2b3c"
)


def issued_certificate(stage: config.Stage):
    """A certificate stack whose certificate is "issued": its output is the ARN ACM
    would give, beside a topic standing in for the certificate (so there is a resource)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"HostedZoneId": {"Type": "String", "Default": ""}},
        "Resources": {"Certificate": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "CertificateArn": {"Value": CERTIFICATE_ARN},
            "ZoneSeen": {"Value": {"Ref": "HostedZoneId"}},
        },
    }


def module(*, certificate=build_certificate, **options):
    """An object with infra.template's two functions, ``build`` taking ``options``."""
    return SimpleNamespace(
        build=lambda stage, **more: build(stage, **{**options, **more}),
        build_certificate=certificate,
    )
