"""ocr_engine: reads words in photos.

The package is what a Lambda layer would hold: decoding, detection, the CRNN runtime
(LiteRT), CTC decoding and the pipeline that composes them. It knows nothing about AWS
or HTTP; the functions in ``functions/`` call ``ocr_engine.pipeline.get_engine().read``.
"""

__version__ = "0.1.0"
