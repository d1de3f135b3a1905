"""ocr_engine: reads words in photos.

The package is what a Lambda layer would hold: decoding, detection, the CRNN runtime
(LiteRT), CTC decoding and the pipeline that composes them. It knows nothing about AWS
or HTTP; the functions in ``functions/`` call ``ocr_engine.pipeline.get_engine().read``.
The ``ocr`` command, evaluation, benchmarks and label files are ``ocr_tools`` (beside it in
``layers/``), which the Lambda image does not ship.
"""

__version__ = "0.1.0"
