"""``python -m bloomwell_client`` is the ``bloomwell`` command."""

from bloomwell_client.cli import main

main()
