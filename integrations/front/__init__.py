"""The Front integration."""
