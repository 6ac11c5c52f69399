"""Front ends (Slack, Discord, console) and clients of outside services."""
