"""The domain model every layer shares: a stream's state, a request's progress, its outcome.

No CloudFormation or AWS SDK types here: the protocol edge (``cfn``) and the adapters (``dal``)
translate to and from these.
"""
