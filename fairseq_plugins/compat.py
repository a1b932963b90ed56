"""Modern-stack compatibility shims, in one place (filled in by the compat work)."""
