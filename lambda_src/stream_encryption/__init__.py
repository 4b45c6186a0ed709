"""Kinesis Data Streams server-side encryption as a CloudFormation custom resource."""
