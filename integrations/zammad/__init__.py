"""The Zammad integration."""
