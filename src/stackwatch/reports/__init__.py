"""Usage and trend reports for the HDWMY routine (weekly, monthly, quarterly) with capacity forecasts.

period (which days a report covers), forecast (trend fits, run-out dates, flavor fit), model (tables and
charts, CSV/JSON), gather (reads the trend store's rollups and the notification archive), render (HTML with
Jinja2), schedule (APScheduler cron jobs and delivery), archive (past reports on disk).
"""
