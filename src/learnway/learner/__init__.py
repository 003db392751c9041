"""Learner models: knowledge tracing that turns attempts into mastery."""

from learnway.learner._online import bkt_update

__all__ = ["bkt_update"]
