"""The Intercom integration."""
