"""The HTTP machinery every endpoint of the REST API shares.

Problem-details errors (``problems``), the OpenAPI schema class that documents them
(``schema``), optimistic locking with ETag / If-Match (``concurrency``), safe retries with
``Idempotency-Key`` (``idempotency``), throttling per token (``throttles``), pagination and
the URL configuration under ``/api/``.
"""
