"""The API's routes, one module per resource: parse the request, call a feature, answer."""
