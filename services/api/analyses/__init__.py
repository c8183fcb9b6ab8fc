"""The analyses domain: upload, job state, results, deletion."""
