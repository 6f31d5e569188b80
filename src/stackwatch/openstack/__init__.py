"""The OpenStack APIs through openstacksdk: the one connection every API check, collector and probe uses."""
