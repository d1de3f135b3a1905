"""Lambda functions: thin entry points over the engine in ``layers/ocr_engine``."""
