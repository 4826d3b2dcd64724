"""Program as code: YAML definitions, their validation and their compiled runtime form."""
