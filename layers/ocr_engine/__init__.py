"""ocr_engine: reads words in photos.

The package is what a Lambda layer would hold: image decoding (``imagefile``), detection,
the CRNN runtime (LiteRT) and its one crop step (``recognize.crop_probs``), CTC decoding
(``ctc``) and the pipeline that composes them. It knows nothing about AWS or HTTP; the
functions in ``functions/`` call ``ocr_engine.pipeline.get_engine()`` and its ``read``
(one image) or ``read_many`` (a batch), with ``with_image=True`` to draw on the image.
The ``ocr`` command, evaluation, benchmarks and label files are ``ocr_tools`` (beside it in
``layers/``), which the Lambda image does not ship.
"""

__version__ = "0.1.0"
