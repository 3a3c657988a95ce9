"""The Zendesk integration."""
