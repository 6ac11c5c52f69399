"""The terminal front end: `supportbot chat` and `supportbot ask`."""
