"""The CloudFormation custom-resource protocol, at the edge: events in, physical ids, responses out.

``events`` parses a raw event into where to respond and what was asked; ``physical_ids`` holds
every physical-id rule; ``response`` composes the size-limited document and PUTs it; ``text``
keeps control characters and the ResponseURL out of what is shown or logged.
"""
