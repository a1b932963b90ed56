"""criterions."""
