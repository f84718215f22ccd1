"""``python -m flowyml.cli``: the same as the ``flowyml`` command."""

from flowyml.cli.main import main

main()
