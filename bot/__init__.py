"""Platform-neutral core of the support bot."""
