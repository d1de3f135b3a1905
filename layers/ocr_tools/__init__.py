"""ocr_tools: the ``ocr`` command, evaluation, benchmarks and the readers of label files.

Tools that use the engine (``ocr_engine``) from the repository; none of it ships in the
Lambda image, which copies ``layers/ocr_engine`` alone (infra/Dockerfile).
"""
