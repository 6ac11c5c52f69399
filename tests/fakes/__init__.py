"""Local fakes of outside services that speak their real wire protocols (see DESIGN.md section 9)."""
