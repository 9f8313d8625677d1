"""What the service does, one module or package per part of the product: plain functions
over a ``Database``, free of HTTP, called by the API's routes and the UI alike."""
