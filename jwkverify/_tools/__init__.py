"""Tools around the library: the command line and the demo."""
