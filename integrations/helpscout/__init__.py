"""The HelpScout integration."""
