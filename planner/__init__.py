"""Foresight planner: lookahead rollouts, plan state and scoring. No HTTP here."""
