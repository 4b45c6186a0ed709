"""The use cases, one function each: ``apply_encryption`` (Create, Update) and
``remove_encryption`` (Delete). Domain models in (properties, progress), an outcome or a hand-over
out; no CloudFormation protocol and no raw event here."""
