"""The Freshdesk integration."""
