"""The HTTP API's one pipeline: the outermost ASGI layer (request ids, access lines, fast
lanes), the error body every failure becomes, request reading and its limits, responses,
the typed dependencies routes declare, the OpenAPI document, and health."""
