"""Load tests of the sample API: Locust journeys, a headless runner and the run's report.

- scenarios.py / locustfile.py: the user journeys (browse, book, mixed)
- runner.py: `run_local(...)` runs Locust against a URL and writes reports/<learner>/<time>/
- incluster.py: `run_in_cluster(...)` applies the Locust Job(s) of infra/components/loadgen.py
  in the learner's namespace, reads the CSV files back from the Job's log, cleans up
- results.py: `write_report(...)`: summary, charts, HTML and SLO verdict for either way
- replicas.py: the API's replica count sampled in the background while a test runs
- summary.py: Locust CSV -> Summary, SLO check, rich tables
- charts.py, report.py: PNG charts and the self-contained HTML summary
- localapp.py: the app under gunicorn on loopback with throwaway Postgres/RabbitMQ, seeded
"""
