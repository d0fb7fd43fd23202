"""Foresight's HTTP server: OpenAI-compatible routes around the planner and engine."""
