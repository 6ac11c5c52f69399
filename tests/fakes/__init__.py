"""Local fakes of outside services that speak their real wire protocols (see docs/architecture.md section
9)."""
