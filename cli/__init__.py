"""The ``grade`` command line."""
