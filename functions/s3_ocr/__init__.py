"""The S3 drop-folder function: OCR every image that lands in the bucket."""
