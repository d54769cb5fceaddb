"""Every write to catalogue data goes through a function in this package."""
