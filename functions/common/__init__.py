"""What both functions share: observability objects and the response shape."""
