"""``python -m foresight_client.terminal``: the terminal chat."""

import sys

from foresight_client.terminal._cli import main

sys.exit(main(prog="python -m foresight_client.terminal"))
