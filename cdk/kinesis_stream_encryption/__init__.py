"""CDK construct: SSE-KMS for Kinesis streams a stack does not own."""

from .construct import KinesisStreamEncryption
from .provider import (
    ASSET_EXCLUDE,
    DEFAULT_SERVICE_TIMEOUT,
    FUNCTION_TIMEOUT,
    HANDLER,
    POWERTOOLS_VERSION,
    PROVIDER_ID,
    RESOURCE_TYPE,
    STREAM_ACTIONS,
    KinesisStreamEncryptionProvider,
    lambda_code_dir,
    powertools_layer_parameter_name,
)

__all__ = [
    "ASSET_EXCLUDE",
    "DEFAULT_SERVICE_TIMEOUT",
    "FUNCTION_TIMEOUT",
    "HANDLER",
    "POWERTOOLS_VERSION",
    "PROVIDER_ID",
    "RESOURCE_TYPE",
    "STREAM_ACTIONS",
    "KinesisStreamEncryption",
    "KinesisStreamEncryptionProvider",
    "lambda_code_dir",
    "powertools_layer_parameter_name",
]
