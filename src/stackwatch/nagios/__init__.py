"""Nagios shops: NRPE command definitions and Nagios object files generated from config.yaml's inventory
and checks (`stackwatch nrpe-config`, `stackwatch nagios-config`), and passive mode, stackwatch's own
in-process results handed to Nagios through its external command file.

settings.py  the `nagios:` section of config.yaml
plan.py      which service (check) each host gets, its NRPE command name and its stackwatch-check arguments
cloud.py     the cloud-wide checks (checks.cloud): the host that runs them, virtual host `openstack`
nrpe.py      the NRPE include file for one host
objects.py   the Nagios object files (hosts, host groups, services, contacts, time periods, dependencies)
passive.py   PROCESS_SERVICE_CHECK_RESULT / PROCESS_HOST_CHECK_RESULT into the command file (FIFO)
"""
