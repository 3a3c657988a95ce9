"""The generic JSON webhook: any system that can send a normalized ticket."""
