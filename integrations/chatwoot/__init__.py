"""The Chatwoot integration."""
