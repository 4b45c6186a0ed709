"""Adapters: one module per AWS service the function calls, each owning its errors and retries.

``streams`` is the interface the use cases depend on; ``kinesis`` implements it
(DescribeStreamSummary, Start/StopStreamEncryption, waiting). ``lambda_invoke`` is the asynchronous
self-invoke that hands a long wait over. Each adapter declares the few client operations it uses
as a Protocol (a boto3 client satisfies it; tests pass fakes). New AWS calls get a module of their
own here (e.g. ``tagging`` for the stream's ownership tags, ``cloudformation`` for asking whether
an owner resource still exists).
"""
