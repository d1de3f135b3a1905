"""What the functions share: observability, counters, and the per-object logic
(s3_objects.py) and S3 access (s3_store.py) of the S3 and bulk functions."""
