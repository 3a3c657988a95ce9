"""Guidance: ownership-taking replies and rewrites from a ticket and its analysis."""
