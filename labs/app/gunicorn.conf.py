"""gunicorn settings for the API container (port 8000)."""

import multiprocessing

bind = "0.0.0.0:8000"
# Small by default: lab containers get a fraction of a CPU. Lesson 8 scales replicas instead.
workers = min(4, multiprocessing.cpu_count() * 2 + 1)
threads = 2
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "*"
