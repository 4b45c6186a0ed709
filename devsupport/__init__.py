"""Development support shared by the tests, the demo (scripts/demo.py) and the benchmarks.

Never shipped: the Lambda asset is lambda_src/ and the wheel holds cdk/kinesis_stream_encryption.

- ``kinesis_sim``: a Kinesis simulator on a virtual clock, plugged into a real boto3 client
- ``harness``: drives ``process`` as CloudFormation and Lambda would, in virtual time
- ``moto_server``: moto's HTTP server, the credential environment, a fake Lambda context
- ``http_receiver``: a local ResponseURL that records CloudFormation's side of the PUT
- ``run_handler``: runs ``handler.lambda_handler`` in a process of its own
- ``leak_guard``: no ResponseURL secret in any captured output
- ``node_path``: the venv's Node.js first on PATH before jsii starts it
"""
