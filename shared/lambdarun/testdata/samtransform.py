"""Transform a SAM template into CloudFormation as the service would.

Usage: python3 samtransform.py template.yaml > transformed.json

Each function's code becomes an S3 location of its own, as `sam build`
(one artifact folder per function) and `sam package` leave it; everything
else is aws-sam-translator's own transform.
"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policy by name: nothing to look up."""

    def load(self):
        return {}


def packaged(template):
    globals_fn = template.get("Globals", {}).get("Function", {})
    globals_fn.pop("CodeUri", None)
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.setdefault("Properties", {})
            props["CodeUri"] = "s3://lakestream-artifacts/" + logical_id + ".zip"
    return template


# The translator resolves AWS::Region from the environment, as in a deploy.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
with open(sys.argv[1]) as f:
    template = packaged(yaml_parse(f.read()))
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1, sort_keys=True)
