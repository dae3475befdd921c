"""``python -m openfactory.testing.loopback``: run a loopback Kafka cluster until SIGINT/SIGTERM."""

import sys

from openfactory.testing.loopback.kafka import main

sys.exit(main())
