"""CDK construct: SSE-KMS for Kinesis streams a stack does not own."""

from .construct import ACCEPTED_REMOVAL_POLICIES, KinesisStreamEncryption
from .provider import (
    ASSET_EXCLUDE,
    DEFAULT_SERVICE_TIMEOUT,
    FUNCTION_TIMEOUT,
    HANDLER,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_LIMIT,
    MAX_SERVICE_TIMEOUT,
    POWERTOOLS_VERSION,
    PROVIDER_ID,
    RESOURCE_TYPE,
    ROLE_INLINE_POLICIES_LIMIT,
    STREAM_ACTIONS,
    DriftCheck,
    KinesisStreamEncryptionProvider,
    lambda_code_dir,
    powertools_layer_parameter_name,
)
from .references import StreamName

__all__ = [
    "ACCEPTED_REMOVAL_POLICIES",
    "ASSET_EXCLUDE",
    "DEFAULT_SERVICE_TIMEOUT",
    "FUNCTION_TIMEOUT",
    "HANDLER",
    "MANAGED_POLICIES_PER_ROLE",
    "MANAGED_POLICY_LIMIT",
    "MAX_SERVICE_TIMEOUT",
    "POWERTOOLS_VERSION",
    "PROVIDER_ID",
    "RESOURCE_TYPE",
    "ROLE_INLINE_POLICIES_LIMIT",
    "STREAM_ACTIONS",
    "DriftCheck",
    "KinesisStreamEncryption",
    "KinesisStreamEncryptionProvider",
    "StreamName",
    "lambda_code_dir",
    "powertools_layer_parameter_name",
]
