"""One module per command group; each is registered in :mod:`promptdeck.cli.main`."""
