"""Billing: orders accepted over HTTP and processed by a worker from `billing_queue`."""
