"""`python -m bandstand.cli`: the `bandstand` command (how `bandstand up` starts its workers)."""

from bandstand.cli import main

main()
