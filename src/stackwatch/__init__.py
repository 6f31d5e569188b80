"""stackwatch: monitoring, logging and alerting for OpenStack clouds.

Kept import-free on purpose: `stackwatch-check` starts through this package and must stay fast.
"""

__version__ = "0.1.0"
