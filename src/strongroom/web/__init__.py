"""The reading room: a web app over the library API. Every page has a JSON twin."""
