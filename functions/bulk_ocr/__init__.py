"""The bulk OCR function: batches of objects already in the bucket, from a Step Functions Distributed Map."""
