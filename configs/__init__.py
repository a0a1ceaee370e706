"""Packaged LightningCLI configs, readable through importlib.resources."""
