"""The jobconsole command and its Textual console. Importing this package imports no Textual."""
