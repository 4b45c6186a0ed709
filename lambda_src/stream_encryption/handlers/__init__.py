"""The Lambda side of the function: what the context says, observability, and ``process``, which
runs one event from parsing to the response (``lambda_src/handler.py`` wires it to Powertools)."""
