"""The Jira integration."""
