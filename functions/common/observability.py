"""Powertools logger, tracer and metrics, made once per process.

Configured by POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL
(set in template.yaml); the defaults below let the local server and tests run without.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ocr")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessOCR")

logger = Logger()
tracer = Tracer()
metrics = Metrics()

IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
