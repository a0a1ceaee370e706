"""Stylization networks (plain nn.Modules) and their checkpoint registry."""
