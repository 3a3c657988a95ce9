"""The Trustdesk service and its command line (the service itself arrives with issue 4)."""
