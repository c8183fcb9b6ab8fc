"""Bloomwell inference worker: Celery task that turns an uploaded video into an emotion timeline."""
