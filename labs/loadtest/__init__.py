"""Load tests of the sample API: Locust journeys, a headless runner and the run's report.

- scenarios.py / locustfile.py: the user journeys (browse, book, mixed)
- runner.py: `run_local(...)` runs Locust against a URL and writes reports/<learner>/<time>/
- summary.py: Locust CSV -> Summary, SLO check, rich tables
- charts.py, report.py: PNG charts and the self-contained HTML summary
- localapp.py: the app under gunicorn on loopback with throwaway Postgres/RabbitMQ, seeded
"""
