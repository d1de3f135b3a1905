"""The API's routes by job: reading images (ocr.py), the service's own state (service.py),
the web page and the API docs (pages.py)."""
